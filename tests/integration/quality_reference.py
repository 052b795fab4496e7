"""The trustworthy records of the two data-quality samples (samples/gen_quality_samples.py),
chosen from the logs' structure alone, as a user's notebook would (docs/FIGURES.md "Data
quality"), sharing no code with moescope; and the figures moescope must then print."""
import gzip
import json
import os
import subprocess
import sys

import numpy as np

from harness import SOURCE, check

GENERATOR = os.path.join(SOURCE, "samples", "gen_quality_samples.py")


def generate(tmp):
    """Writes both samples into tmp; they must equal the bundled ones (the generator is the
    definition of what they hold)."""
    subprocess.run([sys.executable, GENERATOR, tmp], check=True, timeout=120)
    for name in ("vllm_warmup.ndjson.gz", "llama_strided.log"):
        fresh, bundled = os.path.join(tmp, name), os.path.join(SOURCE, "samples", "quality", name)
        check(open(fresh, "rb").read() == open(bundled, "rb").read(),
              "samples/quality/%s is what samples/gen_quality_samples.py writes" % name)
    return os.path.join(tmp, "vllm_warmup.ndjson.gz"), os.path.join(tmp, "llama_strided.log")


def vllm_records(path):
    """[(layer, ids, trusted)]: within a layer, a run of >= 256 consecutive records with the
    same ids and weights keeps its first record only."""
    rows = [json.loads(l) for l in gzip.open(path, "rt")]
    last, run_of, pos, length = {}, [], [], {}
    for r in rows:
        layer, key = r["layer"], (tuple(r["topk_ids"]), tuple(r["topk_weights"]))
        if last.get(layer, (None,))[0] == key:
            run, p = last[layer][1], last[layer][2] + 1
        else:
            run, p = (layer, len(run_of)), 1
        last[layer] = (key, run, p)
        length[run] = p
        run_of.append(run)
        pos.append(p)
    return [(r["layer"], r["topk_ids"], not (length[run] >= 256 and p > 1))
            for r, run, p in zip(rows, run_of, pos)]


def llama_records(path):
    """[(layer, ids, trusted)]: a batch is a run of consecutive selection lines of one layer
    (a header starts over); only its first row was written right."""
    out, prev = [], None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("layer_id,expert_ids"):
            prev = None
        elif line[:1].isdigit():
            layer, ids = line.split(",", 1)
            layer = int(layer)
            out.append((layer, [int(x) for x in ids.split()], layer != prev))
            prev = layer
    return out


def hits(records, E, trusted_only=True):
    layers = sorted({l for l, _, _ in records})
    h = np.zeros((max(layers) + 1, E), dtype=np.int64)
    for l, ids, t in records:
        if t or not trusted_only:
            np.add.at(h[l], ids, 1)
    return layers, h


def gini(h):
    h = np.asarray(h, dtype=np.float64)
    return float(np.abs(h[:, None] - h[None, :]).sum() / (2 * len(h) * len(h) * h.mean()))


def lru_hits(records, layer, C, trusted_only=True):
    cache, hits_ = [], 0
    for l, ids, t in records:
        if l != layer or not (t or not trusted_only):
            continue
        for e in ids:
            if e in cache:
                hits_ += 1
                cache.remove(e)
            elif len(cache) >= C:
                cache.pop(0)
            cache.append(e)
    return hits_
