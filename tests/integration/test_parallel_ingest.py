"""Parallel ingest (docs/ARCHITECTURE.md "Parallel ingest"): `analyze --threads N` must give
what one thread gives, on every sample and on generated logs with restarts, gate lines,
NDJSON weights, identical runs, junk and a partial last line: integers bit-identical, floats
(EMA, weight mass, logit moments) within 1e-12 relative."""
import json
import os
import random
import tempfile

from harness import SOURCE, check, cli, same


def analyze(path, analytics, threads):
    p = cli("analyze", path, "--json", "--analytics", analytics, "--threads", str(threads),
            expect_rc=None)
    return p.returncode, p.stdout, p.stderr


def compare(path, analytics="standard"):
    rc1, out1, err1 = analyze(path, analytics, 1)
    for threads in (2, 3, 7):
        rc, out, err = analyze(path, analytics, threads)
        name = "%s --analytics %s --threads %d" % (os.path.relpath(path, SOURCE), analytics, threads)
        check(rc == rc1, "%s: exit %d vs %d (%s)" % (name, rc, rc1, err))
        check(err == err1, "%s: stderr differs:\n%s\nvs\n%s" % (name, err, err1))
        if rc1 == 0:
            same(json.loads(out1), json.loads(out), name)


def csv_log(rng, path):
    """llama-server lines: restarts (header again), gate lines, junk, an identical run
    (warm-up), and a last line cut short."""
    lines = []
    for restart in range(3):
        lines.append("layer_id,expert_ids")
        lines.append("srv  launch_slot_: id  0 | task %d | processing task" % restart)
        for _ in range(700):
            if rng.random() < 0.01:
                lines.append("gate_input,%d,0,%s" % (rng.randrange(4), " ".join(
                    "%.4f" % rng.uniform(-1, 1) for _ in range(8))))
            layer = rng.randrange(6)
            ids = rng.sample(range(32), 4)
            if rng.random() < 0.01:
                ids = ids[:3] + ids[:1]  # a duplicate: rejected
            lines.append("%d,%s" % (layer, " ".join(map(str, ids))))
        for _ in range(300):  # a warm-up run across many lines
            lines.append("5,1 2 3 4")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n3,1 2")


def ndjson_log(rng, path):
    with open(path, "w") as f:
        for i in range(3000):
            ids = rng.sample(range(16), 2)
            w = [rng.random() for _ in ids]
            tag = rng.choice(["a", "b", "c"])
            f.write(json.dumps({"layer": rng.randrange(4), "experts": ids, "weights": w,
                                "token": i, "tag": tag, "timestamp": 1.7e9 + i}) + "\n")
            if rng.random() < 0.005:
                f.write("{not json\n")


def main():
    samples = []
    for root, _, files in os.walk(os.path.join(SOURCE, "samples")):
        samples += [os.path.join(root, f) for f in files
                    if not f.endswith((".py", ".md", ".yml"))]
    check(len(samples) >= 8, "samples found: %d" % len(samples))
    for path in sorted(samples):
        for analytics in ("counts", "standard", "full"):
            compare(path, analytics)
    rng = random.Random(18)
    with tempfile.TemporaryDirectory() as d:
        for seed in range(3):
            csv = os.path.join(d, "sel%d.log" % seed)
            csv_log(random.Random(seed), csv)
            nd = os.path.join(d, "r%d.ndjson" % seed)
            ndjson_log(random.Random(100 + seed), nd)
            for analytics in ("counts", "standard", "full"):
                compare(csv, analytics)
                compare(nd, analytics)
        # Two files: the second continues the first's aggregates.
        both = [os.path.join(d, "sel0.log"), os.path.join(d, "r0.ndjson") + "=x"]
        one = json.loads(cli("analyze", *both, "--json", "--analytics", "standard",
                             "--threads", "1").stdout)
        two = json.loads(cli("analyze", *both, "--json", "--analytics", "standard",
                             "--threads", "3").stdout)
        same(one, two, "two files")
    print("ok")


if __name__ == "__main__":
    main()
