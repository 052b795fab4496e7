#!/usr/bin/env python3
"""Writes the two logs whose headline a naive count gets wrong (docs/FIGURES.md "Data
quality"), deterministic, standard library only:

    python3 samples/gen_quality_samples.py samples/quality

vllm_warmup.ndjson.gz: a vLLM routing hook on a Qwen1.5-MoE-shaped model (60 experts, top-4,
4 layers): two warm-up passes of 8,192 identical tokens each (vLLM's profiling and CUDA-graph
capture runs; each pass routes every token alike, the second differently from the first),
then 60 requests (a prefill batch, then single-token decode steps), layer-major within each
forward pass as the hook writes it. 18,121 records per layer, 16,382 of them records 2.. of
the two runs.

llama_strided.log: the patched llama-server's moe_expert_selection.log on a 64-expert,
top-8 model with 8 MoE layers: 24 requests, each a multi-token prompt batch (written with
the strided-view defect: row t of a batch is positions 8t..8t+7 of one token's full
ranking, token 8t // 64) and single-token generation (written right); the last layer is
logged only for the batch's last token, as llama-server does.

Every record carries what the tests need to tell trustworthy rows apart without moescope:
nothing extra in the files themselves; tests/integration/test_quality_verdicts.py derives
it from the structure (runs of identical records; a batch's first row).
"""
import gzip
import json
import math
import os
import random
import sys


def zipf_weights(rng, n, s):
    w = [1.0 / (r + 1) ** s for r in range(n)]
    rng.shuffle(w)
    return w


def ranking(rng, weights):
    """A token's full ranking of the experts: Gumbel-perturbed log popularity."""
    keys = [math.log(w) - math.log(-math.log(rng.random() or 1e-300)) for w in weights]
    return sorted(range(len(weights)), key=lambda e: -keys[e])


def softmax_top(rng, k):
    logits = sorted((rng.gauss(0, 1) for _ in range(k)), reverse=True)
    z = sum(math.exp(x) for x in logits)
    return [round(math.exp(x) / z, 4) for x in logits]


def vllm_warmup(path):
    rng = random.Random(28)
    E, K, LAYERS, WARM = 60, 4, 4, 8192
    pop = [zipf_weights(rng, E, 0.35) for _ in range(LAYERS)]
    lines = []

    def record(layer, token, ids, weights):
        lines.append(json.dumps({"layer": layer, "token": token, "topk_ids": ids,
                                 "topk_weights": weights}))

    for _ in range(2):  # the profiling run, then the CUDA-graph capture run
        fixed = [(ranking(rng, pop[l])[:K], softmax_top(rng, K)) for l in range(LAYERS)]
        for layer in range(LAYERS):
            for t in range(WARM):
                record(layer, t, *fixed[layer])
    token = 0
    for _ in range(60):
        prompt = rng.randint(8, 40)
        steps = [prompt] + [1] * rng.randint(0, 10)
        for n in steps:  # one forward pass: each layer's rows of all n tokens
            toks = [[ranking(rng, pop[l])[:K] for l in range(LAYERS)] for _ in range(n)]
            for layer in range(LAYERS):
                for i in range(n):
                    record(layer, token + i, toks[i][layer], softmax_top(rng, K))
            token += n
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode())


def llama_strided(path):
    rng = random.Random(280)
    E, K, LAYERS = 64, 8, 8
    pop = [zipf_weights(rng, E, 1.1) for _ in range(LAYERS)]
    out = ["llama server listening at http://127.0.0.1:8080", "layer_id,expert_ids"]
    for req in range(24):
        out.append("srv  launch_slot_: id  0 | task %d | processing task" % req)
        n = rng.randint(12, 120)
        # The prompt batch: per layer, the rows the patch wrote. Token t's ranking is real;
        # row t reads positions 8t..8t+7 of the flattened [tokens][E] rankings.
        for layer in range(LAYERS):
            ranks = [ranking(rng, pop[layer]) for _ in range(n)]
            flat = [e for r in ranks for e in r]
            rows = 1 if layer == LAYERS - 1 else n  # the last layer: the last token only
            for t in range(rows):
                ids = ranks[n - 1][:K] if rows == 1 else flat[t * K:(t + 1) * K]
                out.append("%d,%s" % (layer, " ".join(map(str, ids))))
        for _ in range(rng.randint(4, 30)):  # generation: one token per pass, written right
            for layer in range(LAYERS):
                out.append("%d,%s" % (layer, " ".join(map(str, ranking(rng, pop[layer])[:K]))))
        out.append("slot print_timing: id  0 | task %d | prompt eval time = 12.34 ms" % req)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "quality")
    os.makedirs(out, exist_ok=True)
    vllm_warmup(os.path.join(out, "vllm_warmup.ndjson.gz"))
    llama_strided(os.path.join(out, "llama_strided.log"))


if __name__ == "__main__":
    main()
