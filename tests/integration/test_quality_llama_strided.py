#!/usr/bin/env python3
"""Issue 28: the patched llama-server's strided-view defect no longer decides the verdict.
Only each multi-token batch's first row (and single-token generation) is counted: layers,
summary, cache (LRU against an independent simulation) and place (EPLB against the numpy
port of DeepSeek's reference) equal numpy on those rows; the HTML report's data says what
was left out; --keep-suspect counts every row and every decision warns."""
import os
import re
import tempfile

import numpy as np

import quality_reference as ref
from harness import check, cli, cli_json
from test_place import compare as place_equals_reference

E = 64


def main():
    with tempfile.TemporaryDirectory() as tmp:
        _, path = ref.generate(tmp)
        records = ref.llama_records(path)
        left = sum(1 for _, _, t in records if not t)
        layers, h = ref.hits(records, E)

        doc = cli_json("layers", path)
        got = {l["layer"]: l for l in doc["layers"] if l["tag"] == "all"}
        for l in layers:
            check([e["hits"] for e in sorted(got[l]["experts"], key=lambda e: e["expert"])] == h[l].tolist(),
                  "layer %d: hits of the first rows" % l)
            check(abs(got[l]["gini"] - ref.gini(h[l])) < 1e-9, "layer %d: Gini" % l)
        q = doc["quality"]
        strided = [c for c in q["checks"] if c["code"] == "strided_view"][0]
        check(strided["found"] and strided["left_out"] == left and strided["count"] == 1, "strided: %r" % strided)
        check({x["layer"]: x["records"] for x in strided["layers"] if x["tag"] == "all"}
              == {**{l: sum(1 for x, _, t in records if x == l and not t) for l in layers if l != 7}, None: left},
              "per layer: %r" % strided["layers"])
        summary = cli("summary", path).stdout
        check(re.search(r"quality +%d records left out: rows after the first" % left, summary), summary)

        # Cache: the LRU of the trusted rows, not of the defect's cyclic order.
        cache = cli_json("cache", path, "--capacity", "8")
        for l in layers:
            row = [r for r in cache["results"] if r.get("layer") == l and r["policy"] == "lru"][0]
            want = ref.lru_hits(records, l, 8)
            check(row["hits"] == want, "layer %d LRU hits %d vs reference %d" % (l, row["hits"], want))
        kept = cli_json("cache", path, "--capacity", "8", "--keep-suspect")
        lru0 = lambda d: [r for r in d["results"] if r.get("layer") == 0 and r["policy"] == "lru"][0]
        check(lru0(kept)["hits"] == ref.lru_hits(records, 0, 8, trusted_only=False), "--keep-suspect LRU")
        check(lru0(kept)["hit_rate"] < 8 / 64 < lru0(cache)["hit_rate"],
              "the defect's order puts LRU below a random cache (%.3f), the first rows above (%.3f)"
              % (lru0(kept)["hit_rate"], lru0(cache)["hit_rate"]))
        text = cli("cache", path, "--capacity", "8", "--keep-suspect").stdout
        check(text.startswith("warning: strided-view defect still counted"), text[:200])

        # Place: EPLB over the trusted hits, slot for slot.
        place_equals_reference(path, layers, h, 4, 64, 1, 1)

        # The HTML report's data carries the quality section its verdict shows.
        html = os.path.join(tmp, "r.html")
        cli("report", path, "--html", html)
        body = open(html).read()
        check('"left_out":%d' % left in body, "the report's data names what was left out")
        print("ok: %d strided rows left out; layer 0 Gini %.3f (numpy on first rows); LRU(8) %.3f, "
              "%.3f with the defect" % (left, ref.gini(h[0]), lru0(cache)["hit_rate"], lru0(kept)["hit_rate"]))


if __name__ == "__main__":
    main()
