#!/usr/bin/env python3
"""Writes small deterministic samples in the shapes engines' own expert recorders write
(README "Engine recorders"), all routing 4 MoE layers of 16 experts, top-2:

    samples/recorders/sglang/expert_distribution.json
        SGLang {"logical_count": [steps][layers][experts]} (json.dump, no final newline);
        layer 0 is a dense layer: all zeros, as in SGLang's DeepSeek-V3 statistics
    samples/recorders/sglang_csv/expert_distribution_rank{0,1}_timestamp....csv
        SGLang's older per-rank CSV: layer_id,expert_id,count (summed over ranks)
    samples/recorders/lmdeploy/rank0_step{10,20}_experts_counts.json
        lmdeploy: json.dump(indent=2) of [moe layers][experts] cumulative counts, already
        summed over ranks; the last step holds everything
    samples/recorders/moe_trace/moe_trace.csv
        llama.cpp moe-trace proposal: layer,expert, one row per routed selection

    samples/recorders/routed/routed_experts.ndjson
        engine responses forwarded by a client: vLLM's routed_experts [tokens][layers][top_k]
        and SGLang's base64 int32 form (with num_layers, top_k), with phases

    python3 samples/gen_recorder_samples.py
Standard library only; fixed seed.
"""
import base64
import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "recorders")
LAYERS, EXPERTS, TOP_K = 4, 16, 2
rng = random.Random(15)


def topk(layer):
    """One token's top-2 at a layer: a skewed, layer-dependent preference."""
    weights = [1.0 + 4.0 * (e == (layer * 5) % EXPERTS) + 2.0 * (e == (layer * 5 + 3) % EXPERTS)
               for e in range(EXPERTS)]
    picked = []
    while len(picked) < TOP_K:
        e = rng.choices(range(EXPERTS), weights)[0]
        if e not in picked:
            picked.append(e)
    return picked


def counts(tokens, dense_first=False):
    """[layers][experts] selection counts of `tokens` tokens."""
    table = []
    for layer in range(LAYERS + (1 if dense_first else 0)):
        row = [0] * EXPERTS
        if not (dense_first and layer == 0):
            for _ in range(tokens):
                for e in topk(layer):
                    row[e] += 1
        table.append(row)
    return table


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    # SGLang: three recorded passes, a dense layer 0 (so MoE layers are 1..4); floats, as
    # the recorder's tensors are.
    steps = [[[float(c) for c in row] for row in counts(40 + 10 * s, dense_first=True)]
             for s in range(3)]
    write(os.path.join(OUT, "sglang", "expert_distribution.json"),
          json.dumps({"logical_count": steps}))

    for rank in range(2):
        table = counts(60 + 30 * rank)
        lines = ["layer_id,expert_id,count"]
        for layer, row in enumerate(table):
            lines += [f"{layer},{e},{c}" for e, c in enumerate(row) if c]
        write(os.path.join(OUT, "sglang_csv",
                           f"expert_distribution_rank{rank}_timestamp17443477{50 + rank}.5.csv"),
              "\n".join(lines) + "\n")

    first = counts(50)
    more = counts(70)
    last = [[a + b for a, b in zip(r1, r2)] for r1, r2 in zip(first, more)]
    for step, table in ((10, first), (20, last)):
        write(os.path.join(OUT, "lmdeploy", f"rank0_step{step}_experts_counts.json"),
              json.dumps(table, indent=2))

    lines = ["layer,expert"]
    for _ in range(80):
        for layer in range(LAYERS):
            lines += [f"{layer},{e}" for e in topk(layer)]
    write(os.path.join(OUT, "moe_trace", "moe_trace.csv"), "\n".join(lines) + "\n")

    lines = []
    for req in range(4):
        tokens = [[topk(layer) for layer in range(LAYERS)] for _ in range(5 + 3 * req)]
        phase = "prefill" if req % 2 == 0 else "decode"
        if req < 2:  # vLLM: a nested list
            rec = {"routed_experts": tokens, "request": "req-%d" % req, "phase": phase}
        else:  # SGLang: base64 of little-endian int32, shape [tokens][layers][top_k]
            flat = [e for tok in tokens for layer in tok for e in layer]
            b64 = base64.b64encode(struct.pack("<%di" % len(flat), *flat)).decode()
            rec = {"routed_experts": b64, "num_layers": LAYERS, "top_k": TOP_K,
                   "request": "req-%d" % req, "phase": phase}
        lines.append(json.dumps(rec))
    write(os.path.join(OUT, "routed", "routed_experts.ndjson"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
