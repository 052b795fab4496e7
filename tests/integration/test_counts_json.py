#!/usr/bin/env python3
"""`--format counts-json --counts-key KEY` (issue 28): a [layers][experts] count table under a
key of any JSON object (research dumps: fiddler's expert_popularity files, per-domain counts
exported to JSON), or {"LAYER": [experts]} rows by layer id. Hits and imbalance figures equal
numpy's; a token count (--counts-tokens-key) gives k only when every layer's selections are
the same whole multiple of it (fiddler's total_input_tokens counts words, so it does not)."""
import json
import os
import tempfile

import numpy as np

from harness import check, cli, cli_json, hits_by_layer


def figures(h):
    h = np.array(h, dtype=float)
    E, mean = len(h), h.mean()
    s = np.sort(h)
    return {"gini": (2 * np.arange(E) - E + 1) @ s / (E * E * mean), "cv": h.std(ddof=1) / mean}


def check_layers(doc, want, what):
    got = hits_by_layer(doc)
    check(sorted(got) == sorted(want), "%s: layers %s, wanted %s" % (what, sorted(got), sorted(want)))
    rows = {l["layer"]: l for l in doc["layers"] if l["tag"] == "all"}
    for l, h in want.items():
        check([got[l].get(e, 0) for e in range(len(h))] == list(h), "%s layer %d hits" % (what, l))
        for k, v in figures(h).items():
            check(abs(rows[l][k] - v) < 1e-9, "%s layer %d %s %r vs numpy %r" % (what, l, k, rows[l][k], v))


def main():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        # 500 tokens, top-2 of 8 experts, 4 layers: every row sums to 1000.
        table = []
        for _ in range(4):
            sel = np.array([rng.choice(8, 2, replace=False) for _ in range(500)]).ravel()
            table.append(np.bincount(sel, minlength=8).tolist())
        pop = os.path.join(tmp, "expert_popularity_x.json")
        json.dump({"total_input_tokens": 500, "expert_popularity": table}, open(pop, "w"))
        args = ["--format", "counts-json", "--counts-key", "expert_popularity"]
        want = {l: row for l, row in enumerate(table)}
        check_layers(cli_json("layers", pop, *args), want, "array form")
        s = cli_json("summary", pop, *args, "--counts-tokens-key", "total_input_tokens")["summary"]
        check(s["top_k"] == 2, "k = 1000 / 500: %r" % s.get("top_k"))
        layers = cli_json("layers", pop, *args, "--counts-tokens-key", "total_input_tokens")["layers"]
        check(all(l["tokens"] == 500 for l in layers), "tokens = selections / k: %r" % [l["tokens"] for l in layers])

        # fiddler counts words, not tokens: 3151 words for 4733 tokens x 2 experts. No k.
        words = os.path.join(tmp, "words.json")
        json.dump({"total_input_tokens": 3151, "expert_popularity": [[1086, 1418, 1352, 1105, 1151, 1268, 995, 1091]]},
                  open(words, "w"))
        doc = cli_json("analyze", words, *args, "--counts-tokens-key", "total_input_tokens")
        src = doc["sources"][0]
        check(src["records"] == 1 and src["rejects"].get("invalid_meta", {}).get("count") == 1,
              "counts kept, the token count refused: %r" % src)
        sample = src["rejects"]["invalid_meta"]["samples"][0]
        check("3.004 per token" in sample, "the reject says why: %r" % sample)

        # Rows by layer id, pretty-printed over several lines (json.dump(indent=2)).
        by_id = os.path.join(tmp, "domain.json")
        rows = {"0": [5, 0, 3, 2], "7": [1, 1, 1, 7], "15": [0, 4, 4, 2]}
        open(by_id, "w").write(json.dumps({"domain": "arxiv", "expert_counts": rows}, indent=2))
        check_layers(cli_json("layers", by_id, "--format", "counts-json", "--counts-key", "expert_counts"),
                     {int(l): r for l, r in rows.items()}, "layer ids")

        # import: count-only data in a database.
        db = os.path.join(tmp, "c.db")
        cli("import", pop, "--db", db, "--tag", "mmlu", *args)
        check_layers(cli_json("--db", db, "layers"), want, "imported")

        # The key is required with the format, and only with it: one line, exit 2.
        for bad, what in ((["--format", "counts-json"], "needs --counts-key"),
                          (["--counts-key", "expert_popularity"], "need --format counts-json")):
            p = cli("layers", pop, *bad, expect_rc=2)
            check(what in p.stderr and len(p.stderr.strip().splitlines()) == 1, "%s: %r" % (bad, p.stderr))
    print("ok: counts-json reads count tables by key, k from a consistent token count only")


if __name__ == "__main__":
    main()
