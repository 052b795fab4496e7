#!/usr/bin/env python3
"""`matrix --csv` keeps each input's tag (issue 31): with FILE=TAG inputs and no --tag, a
block of rows per tag (and an empty tag cell for records of untagged inputs), each summing
to that input's selections per (layer, expert), counted here independently; --tag still
selects one tag; the wide form alike."""
import csv
import io
import json
import os
import random
import tempfile

import numpy as np

from harness import check, cli


def write(path, tokens, rnd, hot):
    h = np.zeros((4, 16), dtype=int)
    with open(path, "w") as f:
        for _ in range(tokens):
            for l in range(4):
                ids = [hot, rnd.choice([e for e in range(16) if e != hot])]
                h[l, ids] += 1
                f.write(json.dumps({"layer": l, "experts": ids}) + "\n")
    return h


def rows(*args):
    return list(csv.DictReader(io.StringIO(cli("matrix", *args, "--csv").stdout)))


def main():
    rnd = random.Random(12)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: os.path.join(tmp, name + ".ndjson") for name in ("a", "b", "c")}
        want = {"x": write(paths["a"], 50, rnd, 1), "y": write(paths["b"], 30, rnd, 2),
                "": write(paths["c"], 20, rnd, 3)}
        got = rows(paths["a"] + "=x", paths["b"] + "=y", paths["c"])
        tags = sorted(set(r["tag"] for r in got))
        check(tags == ["", "x", "y"], "a block per input tag, untagged empty: %r" % tags)
        for tag, h in want.items():
            m = np.zeros((4, 16), dtype=int)
            for r in got:
                if r["tag"] == tag:
                    m[int(r["layer"]), int(r["expert"])] = int(r["hits"])
            check((m == h).all(), "tag %r: hits per (layer, expert) as counted" % tag)
            shares = [float(r["share"]) for r in got if r["tag"] == tag and r["layer"] == "0"]
            check(abs(sum(shares) - 1) < 1e-4, "tag %r: shares of a layer sum to 1" % tag)
        only = rows(paths["a"] + "=x", paths["b"] + "=y", "--tag", "y")
        check(set(r["tag"] for r in only) == {"y"} and sum(int(r["hits"]) for r in only) == want["y"].sum(),
              "--tag y: y only")
        wide = list(csv.DictReader(io.StringIO(cli("matrix", paths["a"] + "=x", paths["b"] + "=y", "--csv",
                                                   "--wide").stdout)))
        check([(r["tag"], r["layer"]) for r in wide] == [(t, str(l)) for t in "xy" for l in range(4)],
              "wide: a row per (tag, layer)")
        check(int(wide[5]["2"]) == want["y"][1, 2], "wide cell")
        every = rows(paths["a"] + "=x", paths["b"] + "=y", "--tag", "all")
        check(set(r["tag"] for r in every) == {"all"} and sum(int(r["hits"]) for r in every) ==
              want["x"].sum() + want["y"].sum(), "--tag all: all, as asked")
        one = rows(paths["c"])
        check(set(r["tag"] for r in one) == {"all"}, "one untagged input: tag all, as before")
    print("ok: matrix --csv keeps each input's tag")


if __name__ == "__main__":
    main()
