"""moescoped's parallel backlog replay (docs/ARCHITECTURE.md "Parallel ingest"): a followed
file with a backlog of about 110 MB (selection lines, gate lines, a server restart and a
line being written at the end) is read on 3 threads; every figure in the database equals
what a daemon reading it on one thread stored: counts bit-identical, floats within 1e-12
relative, and the strided-batch and gate figures alike. Then the live tail goes on."""
import json
import os
import subprocess
import tempfile

from harness import BUILD, Daemon, check, cli, same, wait_for


def gen(fmt, mb, seed):
    return subprocess.run([os.path.join(BUILD, "gen_log"), "--shape", "qwen3", "--format", fmt,
                           "--mb", str(mb), "--seed", str(seed)], capture_output=True,
                          check=True).stdout


def run_daemon(db, log, threads, size):
    with Daemon("--db", db, "--follow", log, "--threads", str(threads), "--analytics", "full",
                "--flush-ms", "100") as d:
        def offset():
            doc = json.loads(cli("--db", db, "sources", "--json").stdout)
            return doc["sources"][0]["offset"] == size and doc
        wait_for(offset, "offset %d with %d threads" % (size, threads), attempts=1200)
        d.stop()
        return d.output()


def figures(db):
    out = {}
    for cmd in ("layers", "gates", "cooc", "matrix", "summary"):
        out[cmd] = json.loads(cli("--db", db, cmd, "--json").stdout)
    src = json.loads(cli("--db", db, "sources", "--json").stdout)["sources"][0]
    for k in ("bytes", "lines", "records", "gate_records", "rejects", "offset", "restarts",
              "batches_checked", "batches_strided", "identical_runs", "identical_records"):
        if k in src:
            out["source." + k] = src[k]
    return out


def main():
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "moe_expert_selection.log")
        body = gen("csv", 60, 1) + b"layer_id,expert_ids\n" + gen("gate", 50, 2)
        with open(log, "wb") as f:
            f.write(body + b"7,1 2 3")  # the server is writing this line
        size = len(body)
        check(size > 100e6, "log of %d bytes" % size)
        one = run_daemon(os.path.join(d, "one.db"), log, 1, size)
        three = run_daemon(os.path.join(d, "three.db"), log, 3, size)
        check("reading them on" not in one, "one thread replayed:\n" + one[-2000:])
        check("reading them on 3 threads" in three, "no replay on 3 threads:\n" + three[-2000:])
        check("(2 of 2 chunks on other threads appended)" in three,
              "chunks fell back to one pass:\n" + three[-2000:])
        a, b = figures(os.path.join(d, "one.db")), figures(os.path.join(d, "three.db"))
        check(a["source.records"] > 1e6, "records: %r" % a["source.records"])
        pairs = a["gates"]["gate_pairs"]
        check(len(pairs) >= 3 and min(p["count"] for p in pairs) > 500, "gate pairs: %r" % pairs)
        same(a, b, "figures")
    print("ok")


if __name__ == "__main__":
    main()
