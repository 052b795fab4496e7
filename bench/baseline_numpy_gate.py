#!/usr/bin/env python3
"""numpy baseline for gate-input distances: what a numpy user writes instead of moescope.

Reads the `gate_input,<layer>,<token>,<n floats separated by spaces>` lines of a
llama-server log (bench/gen_log --format gate: layers 20-23 of every token, n_embd 2048,
between selection lines) and computes, per pair of consecutive logged layers, the
distances of docs/FIGURES.md "Gate-input distances" as analytics/gate_metrics.cpp does
(floats read as float32, the sums in float64): cosine_similarity, cosine_distance,
euclidean, l2_normalized, l1, pearson, max_abs_diff, mean_abs_diff, each as count, mean,
std (ddof 0), min and max over the token pairs (undefined values left out).

Pairing as docs/FIGURES.md "Pairing" states it: the last vector of each token index is
remembered; a vector at layer L2 pairs with it when it came from a lower layer L1 of the
same forward pass; a forward pass ends when a gate line's layer is lower than the previous
gate line's, and at a `layer_id,expert_ids` header line. As moescope, a vector whose length
differs from the first one is dropped (it neither pairs nor is remembered). Not
reproduced: tags (everything is tag 'all', view `--gate-tokens all`), the 16,384 waiting
token limit, and moescope's validation (non-finite values, line-length limits); lines that
are not gate_input lines are skipped unparsed (moescope also counts the selections).

How it reads: every line is read in Python, gate_input lines are cut at the third comma,
and all their float payloads are parsed by one np.loadtxt call (numpy >= 1.23 has a C
parser) into a float32 matrix; if the lines have different lengths, one np.fromstring per
line instead (then the vectors of another length than the first are dropped). The fastest
honest numpy way found on the 100 MB Qwen3-shaped gate log (5,248 lines of 2,048 floats,
numpy 1.24): loadtxt 0.87-0.96 s; np.fromstring(sep=" ") per line 1.09-1.24 s (float64:
1.32-1.41 s); one np.fromstring over the joined payloads 1.21 s; Python float() per value
then np.array about 2.5 s; np.array(bytes).astype about 2.9 s. The distances are
vectorised per layer pair (one (pairs x n) float64 array at a time). The whole log is held
in memory.

    /usr/bin/python3 bench/baseline_numpy_gate.py GATE_LOG [--check] [--brief]

Prints one JSON object: seconds (from opening the file to the figures, after imports),
mb_s (input bytes / 10^6 / seconds), input_mb, gate_vectors, pairs, reader, and
gate_pairs (from_layer, to_layer, count, then per metric count/mean/std/min/max; left out
with --brief). --check also runs `build/moescope gates GATE_LOG --json` (MOESCOPE_BUILD
overrides build/) and compares every figure within 1e-6 relative (counts exactly); exit
status 1 on a mismatch, which is printed to stderr.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
import warnings

import numpy as np

METRICS = ("cosine_similarity", "cosine_distance", "euclidean", "l2_normalized", "l1", "pearson",
           "max_abs_diff", "mean_abs_diff")
HEADER = b"layer_id,expert_ids"


def read_gate_vectors(path):
    """Returns layer, token and forward-pass lists and the float32 matrix of the vectors."""
    layers, tokens, passes, payloads = [], [], [], []
    fwd, prev_layer = 0, None
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"gate_input,"):
                _, layer, token, payload = line.split(b",", 3)
                layer = int(layer)
                if prev_layer is not None and layer < prev_layer:
                    fwd += 1
                prev_layer = layer
                layers.append(layer)
                tokens.append(int(token))
                passes.append(fwd)
                payloads.append(payload)
            elif line.startswith(HEADER):
                fwd, prev_layer = fwd + 1, None
    if not payloads:
        return [], [], [], np.zeros((0, 0), np.float32), "none"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ragged line count is an error, not a warning
            return layers, tokens, passes, np.loadtxt(payloads, dtype=np.float32, ndmin=2), "np.loadtxt"
    except ValueError:
        pass
    # Lines of different lengths: as moescope, a vector whose length differs from the first
    # one is rejected (wrong_vector_length) and takes no part in pairing.
    rows = [np.fromstring(p, dtype=np.float32, sep=" ") for p in payloads]
    keep = [i for i, r in enumerate(rows) if len(r) == len(rows[0])]
    pick = lambda xs: [xs[i] for i in keep]
    return pick(layers), pick(tokens), pick(passes), np.stack(pick(rows)), "np.fromstring per line"


def pair_up(layers, tokens, passes):
    """{(L1, L2): ([index of u], [index of v])} by the pairing rule of docs/FIGURES.md."""
    last = {}  # token -> index of its last vector
    pairs = {}
    for i, (layer, token, fwd) in enumerate(zip(layers, tokens, passes)):
        j = last.get(token)
        if j is not None and passes[j] == fwd and layers[j] < layer:
            u, v = pairs.setdefault((layers[j], layer), ([], []))
            u.append(j)
            v.append(i)
        last[token] = i
    return pairs


def distances(U, V):
    """Per row: the GateDistances of analytics/gate_metrics.cpp, in float64 (NaN = undefined)."""
    U, V = U.astype(np.float64), V.astype(np.float64)
    n = U.shape[1]
    D = U - V
    A = np.abs(D)
    dot = np.einsum("ij,ij->i", U, V)
    uu = np.einsum("ij,ij->i", U, U)
    vv = np.einsum("ij,ij->i", V, V)
    sq = np.einsum("ij,ij->i", D, D)
    l1 = A.sum(axis=1)
    mx = A.max(axis=1)
    Uc = U - (U.sum(axis=1) / n)[:, None]
    Vc = V - (V.sum(axis=1) / n)[:, None]
    cov = np.einsum("ij,ij->i", Uc, Vc)
    su = np.einsum("ij,ij->i", Uc, Uc)
    sv = np.einsum("ij,ij->i", Vc, Vc)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.sqrt(uu) * np.sqrt(vv)
        cos = np.where(denom > 0, dot / denom, np.nan)
        pearson = np.where((n > 1) & (su > 0) & (sv > 0), cov / np.sqrt(su * sv), np.nan)
    eu = np.sqrt(sq)
    return {"cosine_similarity": cos, "cosine_distance": 1.0 - cos, "euclidean": eu,
            "l2_normalized": eu / math.sqrt(n), "l1": l1, "pearson": pearson, "max_abs_diff": mx,
            "mean_abs_diff": l1 / n}


def summary(x):
    x = x[~np.isnan(x)]
    if not len(x):
        return {"count": 0, "mean": None, "std": None, "min": None, "max": None}
    return {"count": int(len(x)), "mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()),
            "max": float(x.max())}


def figures(path):
    layers, tokens, passes, vecs, reader = read_gate_vectors(path)
    out = []
    for (l1, l2), (iu, iv) in sorted(pair_up(layers, tokens, passes).items()):
        dist = distances(vecs[iu], vecs[iv])
        out.append({"from_layer": l1, "to_layer": l2, "count": len(iu), **{m: summary(dist[m]) for m in METRICS}})
    return out, len(layers), reader


def close(a, b, rel=1e-6):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= rel * max(abs(a), abs(b)) or abs(a - b) < 1e-300


def check(path, mine):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.environ.get("MOESCOPE_BUILD", os.path.join(root, "build"))
    r = subprocess.run([os.path.join(build, "moescope"), "gates", path, "--json"], capture_output=True, check=True)
    theirs = {(p["from_layer"], p["to_layer"]): p for p in json.loads(r.stdout)["gate_pairs"]
              if p["tag"] == "all" and p["tokens"] == "all"}
    ours = {(p["from_layer"], p["to_layer"]): p for p in mine}
    bad = []
    if set(theirs) != set(ours):
        bad.append("layer pairs: numpy %s, moescope %s" % (sorted(ours), sorted(theirs)))
    compared = 0
    for key in sorted(set(theirs) & set(ours)):
        o, t = ours[key], theirs[key]
        if o["count"] != t["count"]:
            bad.append("%s count: numpy %d, moescope %d" % (key, o["count"], t["count"]))
        for m in METRICS:
            for s in ("count", "mean", "std", "min", "max"):
                compared += 1
                ok = o[m][s] == t[m][s] if s == "count" else close(o[m][s], t[m][s])
                if not ok:
                    bad.append("%s %s.%s: numpy %r, moescope %r" % (key, m, s, o[m][s], t[m][s]))
    for b in bad:
        print("check: " + b, file=sys.stderr)
    return {"ok": not bad and compared > 0, "layer_pairs": len(theirs), "figures_compared": compared,
            "mismatches": len(bad)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--check", action="store_true", help="compare with `moescope gates FILE --json` (1e-6 relative)")
    ap.add_argument("--brief", action="store_true", help="leave the figures out of the JSON")
    args = ap.parse_args()
    t0 = time.time()
    pairs, vectors, reader = figures(args.file)
    seconds = time.time() - t0
    mb = os.path.getsize(args.file) / 1e6
    result = {"seconds": seconds, "mb_s": mb / seconds, "input_mb": mb, "gate_vectors": vectors,
              "pairs": sum(p["count"] for p in pairs), "reader": reader, "numpy": np.__version__}
    if not args.brief:
        result["gate_pairs"] = pairs
    if args.check:
        result["check"] = check(args.file, pairs)
    print(json.dumps(result))
    if args.check and not result["check"]["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
