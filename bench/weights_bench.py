#!/usr/bin/python3
"""Read speed of `moescope weights`: MB/s of weights processed, and peak RSS, on generated
GGUF models (F16, BF16, Q8_0 experts; F32 routers) and a sharded BF16 safetensors model of a
few hundred MB. Files are generated at bench time in bench/out/ (never committed).

    python3 bench/weights_bench.py              # ~300 MB models
    python3 bench/weights_bench.py --mb 800     # larger
Prints a table; writes bench/out/weights_results.json. "MB/s" is bytes_processed (router and
expert bytes read, a re-read for a cross-layer delta counting again) over wall time; RSS is
the peak resident set of the process (mapped pages count while touched, and are released
after each layer)."""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import model_writer as mw  # noqa: E402

BUILD = os.environ.get("MOESCOPE_BUILD", os.path.join(ROOT, "build"))
CLI = os.path.join(BUILD, "moescope")
OUT = os.path.join(HERE, "out")


def shape_for(mb, bytes_per_weight):
    """Layers of 16 experts, n_embd 512, n_ff 256 (Qwen-MoE-like proportions), enough layers
    for about `mb` MB."""
    E, D, FF = 16, 512, 256
    per_layer = 3 * E * FF * D * bytes_per_weight
    return max(4, int(mb * 1e6 // per_layer)), E, D, FF


def gen_gguf(path, mb, tname):
    L, E, D, FF = shape_for(mb, {"F16": 2, "BF16": 2, "Q8_0": 34 / 32}[tname])
    rng = np.random.default_rng(1)
    ts = []
    for l in range(L):
        ts.append(("blk.%d.ffn_gate_inp.weight" % l, rng.normal(size=(E, D)).astype(np.float32), "F32"))
        for p in ("gate", "up"):
            ts.append(("blk.%d.ffn_%s_exps.weight" % (l, p), rng.normal(size=(E, FF, D)).astype(np.float32), tname))
        ts.append(("blk.%d.ffn_down_exps.weight" % l, rng.normal(size=(E, D, FF)).astype(np.float32), tname))
    mw.write_gguf(path, {"general.architecture": "qwen3moe", "qwen3moe.block_count": L}, ts)


def gen_sharded(directory, mb):
    L, E, D, FF = shape_for(mb, 2)
    rng = np.random.default_rng(2)
    os.makedirs(directory, exist_ok=True)
    ts = []
    for l in range(L):
        ts.append(("model.layers.%d.mlp.gate.weight" % l, rng.normal(size=(E, D)).astype(np.float32), "BF16"))
        for e in range(E):
            for p, shp in (("gate", (FF, D)), ("up", (FF, D)), ("down", (D, FF))):
                ts.append(("model.layers.%d.mlp.experts.%d.%s_proj.weight" % (l, e, p),
                           rng.normal(size=shp).astype(np.float32), "BF16"))
    mw.write_sharded(directory, ts, 4)


def run(model):
    t0 = time.time()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", CLI, "weights", model, "--json", "--periodic", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    wall = time.time() - t0
    if p.returncode:
        sys.exit("moescope weights failed: " + err)
    doc = json.loads(out)
    rss_mb = int(err.strip().splitlines()[-1]) / 1024
    return doc, wall, rss_mb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=300)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for t in ("F16", "BF16", "Q8_0"):
        path = os.path.join(OUT, "weights_%s_%dmb.gguf" % (t, args.mb))
        if not os.path.exists(path):
            gen_gguf(path + ".tmp", args.mb, t)
            os.rename(path + ".tmp", path)
        cases.append(("gguf " + t, path))
    sharded = os.path.join(OUT, "weights_bf16_%dmb_sharded" % args.mb)
    if not os.path.exists(os.path.join(sharded, "model.safetensors.index.json")):
        gen_sharded(sharded, args.mb)
    cases.append(("safetensors BF16 x4 shards", sharded))

    results = []
    print("%-28s %9s %11s %8s %9s %8s" % ("model", "file MB", "processed", "seconds", "MB/s", "RSS MB"))
    for name, path in cases:
        doc, wall, rss = run(path)
        mb_file = doc["model"]["file_bytes"] / 1e6
        mb_done = doc["bytes_processed"] / 1e6
        r = {"model": name, "file_mb": round(mb_file, 1), "processed_mb": round(mb_done, 1),
             "seconds": round(wall, 3), "mb_per_s": round(mb_done / wall, 1), "peak_rss_mb": round(rss, 1)}
        results.append(r)
        print("%-28s %9.1f %11.1f %8.2f %9.1f %8.1f" % (name, mb_file, mb_done, wall, mb_done / wall, rss))
    with open(os.path.join(OUT, "weights_results.json"), "w") as f:
        json.dump({"cpus": os.cpu_count(), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
