#!/usr/bin/env python3
"""`moescope analyze --json` against an independent numpy computation (reference.py) on the
bundled sample and on a generated log full of edge cases (CRLF, scientific notation, other
log lines, restarts, a partial last line). Every figure of docs/FIGURES.md is compared."""
import os
import random
import sys
import tempfile

import reference
from harness import SOURCE, check, cli_json, fail

SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
FIGURES = ("selections", "num_experts", "unique_experts", "dead_experts", "mean", "median", "min", "max",
           "std", "cv", "gini", "entropy_bits", "entropy_norm", "top5_share", "top10_share", "max_over_mean")


def close(a, b, rel):
    return abs(a - b) <= rel * max(1.0, abs(b))


def compare_file(path, label):
    doc = cli_json("analyze", path)
    sels, events = reference.parse_llama_log(path)
    layers, glob = reference.routing_figures(sels)
    got = {l["layer"]: l for l in doc["layers"] if l["tag"] == "all"}
    check(sorted(got) == sorted(layers), "%s: layer sets differ: %s vs %s" % (label, sorted(got), sorted(layers)))
    for layer, want in layers.items():
        g = got[layer]
        check(g["tokens"] == want["tokens"], "%s layer %d tokens" % (label, layer))
        for k in FIGURES:
            check(close(g[k], want[k], 1e-9), "%s layer %d %s: %r vs numpy %r" % (label, layer, k, g[k], want[k]))
        hits = {e["expert"]: e["hits"] for e in g["experts"]}
        check(hits == want["hits"], "%s layer %d hits" % (label, layer))
        for e in g["experts"]:
            check(close(e["ema"], want["ema"][e["expert"]], 1e-9), "%s layer %d ema %d" % (label, layer, e["expert"]))
            check(close(e["share"], want["hits"][e["expert"]] / want["selections"], 1e-12), "share")
    for k in FIGURES:
        check(close(doc["global"][k], glob[k], 1e-9), "%s global %s" % (label, k))
    check(doc["global"]["tokens"] == glob["tokens"], "global tokens")

    for tokens in ("all", "first"):
        doc = cli_json("analyze", path, "--gate-tokens", tokens)
        want = reference.gate_pairs(events, first_only=(tokens == "first"))
        got = {(p["from_layer"], p["to_layer"]): p for p in doc["gate_pairs"]}
        check(sorted(got) == sorted(want), "%s gate pairs (%s): %s vs %s" % (label, tokens, sorted(got), sorted(want)))
        worst = 0.0
        for key, w in want.items():
            g = got[key]
            check(g["count"] == w["count"], "%s pair %s count" % (label, key))
            for m, stats in w.items():
                if m == "count":
                    continue
                for s in ("mean", "std", "min", "max"):
                    # moescope parses gate values as float32 (what the engine had); numpy
                    # uses float64 from the 6-digit text: agreement to ~1e-6 relative.
                    err = abs(g[m][s] - stats[s]) / max(1e-3, abs(stats[s]))
                    worst = max(worst, err)
                    check(err < 2e-5, "%s pair %s %s.%s: %r vs numpy %r" % (label, key, m, s, g[m][s], stats[s]))
        print("  %s: %d gate pairs (%s tokens), worst relative deviation %.2e" % (label, len(want), tokens, worst))


def edge_case_log(path):
    rng = random.Random(99)
    E, k = 16, 3
    lines = ["llama server listening at http://127.0.0.1:8080", "layer_id,expert_ids"]
    for passno in range(40):
        n_tok = rng.choice([1, 1, 1, 5])
        for layer in range(4):
            if layer in (1, 3):  # gate logged for layers 1 and 3 only: 1 -> 3 is a pair
                for t in range(n_tok):
                    vec = [rng.gauss(0, 1) * 10 ** rng.randint(-6, 2) for _ in range(12)]
                    lines.append("gate_input,%d,%d,%s" % (layer, t, " ".join("%g" % v for v in vec)))
            if layer == 3 and rng.random() < 0.3:
                continue  # the last layer logs only tokens that produce output
            for t in range(n_tok):
                lines.append("%d,%s" % (layer, " ".join(map(str, rng.sample(range(E), k)))))
        if passno == 20:
            lines.append("layer_id,expert_ids")  # a restart
        if passno % 7 == 0:
            lines.append("slot update_slots: id  0 | task 3 | kv cache rm [12, end)")
    body = "\r\n".join(lines) + "\r\n" + "2,1 2"  # CRLF, and a partial last line
    with open(path, "w", newline="") as f:
        f.write(body)


def main():
    compare_file(SAMPLE, "sample")
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "edge.log")
        edge_case_log(p)
        compare_file(p, "edge cases")
        doc = cli_json("analyze", p)
        src = doc["sources"][0]
        check(src["rejects"].get("partial_line", {}).get("count") == 1, "partial last line reported")
        check(src["rejected"] == 1, "only the partial line is rejected")
    print("ok: analyze == numpy reference")


if __name__ == "__main__":
    main()
