#!/usr/bin/env python3
"""A fleet: each node's moescoped writes its own database; `moescope merge` combines them,
and the merged figures equal `moescope analyze` over all the nodes' logs together. Databases
of different models are refused with a clear error and nothing is written."""
import os
import subprocess
import tempfile

from harness import MOESCOPE, SOURCE, check, cli, cli_json, hits_by_layer, ingest

MIX = os.path.join(SOURCE, "samples", "realdata", "mixtral")
SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")


def node(tmp, name, files, n_records):
    return ingest(os.path.join(tmp, name + ".db"), files, n_records)


def split(path, parts, tmp, header=b""):
    lines = open(path, "rb").read().split(b"\n")[:-1]
    step = len(lines) // parts
    out = []
    for i in range(parts):
        chunk = lines[i * step:(i + 1) * step if i < parts - 1 else len(lines)]
        p = os.path.join(tmp, "%s.part%d" % (os.path.basename(path), i))
        with open(p, "wb") as f:
            f.write((header if i else b"") + b"\n".join(chunk) + b"\n")
        out.append(p)
    return out


def count(paths):
    return sum(1 for p in paths for l in open(p, "rb") if l[:1] in b"{0123456789")


def same(got, want, key, label):
    check(got[key] == want[key], "%s: merged %s differs from analyze" % (label, key))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # Mixtral: three nodes, tags from the records' dataset field.
        he = split(os.path.join(MIX, "humaneval_2_routing.jsonl"), 2, tmp)
        gs = os.path.join(MIX, "gsm8k_2_routing.jsonl")
        nodes = [node(tmp, "a", [he[0]], count([he[0]])), node(tmp, "b", [he[1]], count([he[1]])),
                 node(tmp, "c", [gs], count([gs]))]
        fleet = os.path.join(tmp, "fleet.db")
        p = cli("merge", *nodes, "--out", fleet)
        check("merged 3 databases (18668 records)" in p.stdout, "merge summary: %r" % p.stdout)
        files = he + [gs]
        for tag in ("all", "humaneval", "gsm8k"):
            got, want = cli_json("--db", fleet, "layers", "--tag", tag), cli_json("analyze", *files, "--tag", tag)
            check(hits_by_layer(got, tag) == hits_by_layer(want, tag), "tag %s: merged hits == analyze" % tag)
            for a, b in zip(got["layers"], want["layers"]):
                for k in ("tokens", "gini", "entropy_bits", "cv"):
                    check(a[k] == b[k], "tag %s layer %d %s" % (tag, a["layer"], k))
                wa = [e["weight_mass"] for e in a["experts"]]
                wb = [e["weight_mass"] for e in b["experts"]]
                check(all(abs(x - y) < 1e-9 for x, y in zip(wa, wb)), "weight mass")
        same(cli_json("--db", fleet, "cooc", "--top", "1000"), cli_json("analyze", *files, "--top", "1000"), "cooc", "mixtral")
        same(cli_json("--db", fleet, "corr"), cli_json("analyze", *files), "layer_correlation", "mixtral")
        got, want = cli_json("--db", fleet, "logits"), cli_json("analyze", *files)
        check([l["histograms"] for l in got["logits"]] == [l["histograms"] for l in want["logits"]], "weight histograms")
        same(cli_json("--db", fleet, "compare", "--tag", "gsm8k", "--vs", "humaneval"),
             cli_json("analyze", *files, "--tag", "gsm8k", "--vs", "humaneval"), "compare", "mixtral")
        tags = {t["tag"]: t["records"] for t in cli_json("--db", fleet, "tags")["tags"]}
        check(tags == {"all": 18668, "humaneval": 10779, "gsm8k": 7889}, "merged tags %r" % tags)
        check(len(cli_json("--db", fleet, "sources")["sources"]) == 3, "the nodes' sources are listed")
        # Timelines (records timed on arrival) add up.
        tl = cli_json("--db", fleet, "timeline")["timeline"]
        check(sum(r["tokens"] for r in tl) == 18668, "merged timeline adds up")

        # llama-server logs with gate inputs: two nodes, the second after a server restart.
        parts = split(SAMPLE, 2, tmp, header=b"layer_id,expert_ids\n")
        g1, g2 = node(tmp, "g1", [parts[0]], count([parts[0]])), node(tmp, "g2", [parts[1]], count([parts[1]]))
        gfleet = os.path.join(tmp, "gfleet.db")
        cli("merge", g1, g2, "--out", gfleet)
        got, want = cli_json("--db", gfleet, "gates"), cli_json("analyze", *parts)
        check([(x["from_layer"], x["to_layer"], x["count"]) for x in got["gate_pairs"]] ==
              [(x["from_layer"], x["to_layer"], x["count"]) for x in want["gate_pairs"]], "merged gate pairs")
        for a, b in zip(got["gate_pairs"], want["gate_pairs"]):
            for m in ("cosine_similarity", "euclidean", "pearson"):
                for s in ("mean", "std", "min", "max"):
                    check(abs(a[m][s] - b[m][s]) < 1e-9, "merged %s %s" % (m, s))
        check(hits_by_layer(cli_json("--db", gfleet, "layers")) == hits_by_layer(cli_json("analyze", *parts)),
              "merged llama hits")

        # Different models are refused, and nothing is written.
        bad = os.path.join(tmp, "bad.db")
        p = subprocess.run([MOESCOPE, "merge", nodes[0], g1, "--out", bad], capture_output=True, text=True)
        check(p.returncode == 2 and "cannot merge" in p.stderr and "top-" in p.stderr and p.stderr.count("\n") == 1,
              "different top-k refused: %r" % p.stderr)
        check(not os.path.exists(bad), "nothing written for a refused merge")
        meta8 = os.path.join(tmp, "meta8.ndjson")
        meta16 = os.path.join(tmp, "meta16.ndjson")
        with open(meta8, "w") as f:
            f.write('{"type": "meta", "num_experts": 8}\n{"layer": 0, "experts": [1, 2]}\n')
        with open(meta16, "w") as f:
            f.write('{"type": "meta", "num_experts": 16}\n{"layer": 0, "experts": [1, 2]}\n')
        m8, m16 = node(tmp, "m8", [meta8], 1), node(tmp, "m16", [meta16], 1)
        p = subprocess.run([MOESCOPE, "merge", m8, m16, "--out", bad], capture_output=True, text=True)
        check(p.returncode == 2 and "num_experts 16 in %s differs from 8 in %s" % (m16, m8) in p.stderr,
              "expert counts refused: %r" % p.stderr)
        p = subprocess.run([MOESCOPE, "merge", m8, "--out", fleet], capture_output=True, text=True)
        check(p.returncode == 2 and "exists" in p.stderr, "an existing --out needs --force: %r" % p.stderr)
    print("ok: merged fleets equal analyze over all logs; different models refused")


if __name__ == "__main__":
    main()
