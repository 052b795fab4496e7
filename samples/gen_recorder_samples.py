#!/usr/bin/env python3
"""Writes small deterministic samples in the shapes engines' own expert recorders write
(docs/INPUTS.md "Engine recorders"), all routing 4 MoE layers of 16 experts, top-2:

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

    samples/recorders/imatrix/imatrix.gguf
        llama.cpp llama-imatrix GGUF: blk.N.ffn_{gate,up,down}_exps.weight.counts F32
        [n_expert] (equal, as ggml_mul_mat_id feeds them the same ids) with their in_sum2,
        and the one-count tensors of dense weights (blk.0.ffn_down, attn_q), which are not
        expert loads
    samples/recorders/trtllm/{meta_info.json,rank0.safetensors,rank1.safetensors}
        TensorRT-LLM EXPERT_STATISTIC_PATH: int64 bincounts named "{iter}_{layer}" for
        iterations 100..102 per rank

    python3 samples/gen_recorder_samples.py
Fixed seeds. The binary ones use tests/integration/model_writer.py (numpy); the rest the
standard library only.
"""
import base64
import json
import os
import random
import struct
import sys

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
    binary_samples()


def binary_samples():
    """The GGUF and safetensors recorders, with their own seed so the text samples above
    stay as they were."""
    global rng
    rng = random.Random(1515)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
    import numpy as np
    from model_writer import write_gguf, write_safetensors

    # llama-imatrix: layer 0 dense (one count per weight), MoE layers 1..4; counts as
    # ggml_new_tensor_2d(F32, 1, n_expert), i.e. numpy shape [n_expert, 1].
    table = counts(60, dense_first=True)
    n_embd, tensors = 8, []
    tensors.append(("blk.0.attn_q.weight.counts", np.array([[60.0]]), "F32"))
    tensors.append(("blk.0.ffn_down.weight.counts", np.array([[60.0]]), "F32"))
    for layer in range(1, LAYERS + 1):
        c = np.array(table[layer], dtype=np.float32).reshape(EXPERTS, 1)
        for proj in ("down", "gate", "up"):
            name = f"blk.{layer}.ffn_{proj}_exps.weight"
            tensors.append((name + ".counts", c, "F32"))
            tensors.append((name + ".in_sum2", np.full((EXPERTS, n_embd), 0.5), "F32"))
    tensors.sort(key=lambda t: t[0])  # imatrix stores names sorted
    os.makedirs(os.path.join(OUT, "imatrix"), exist_ok=True)
    write_gguf(os.path.join(OUT, "imatrix", "imatrix.gguf"),
               {"general.type": "imatrix", "imatrix.datasets": ["wiki.train.raw"],
                "imatrix.chunk_count": 1, "imatrix.chunk_size": 512}, tensors)

    # TensorRT-LLM: per rank, torch.bincount (int64) per iteration and layer.
    d = os.path.join(OUT, "trtllm")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "meta_info.json"),
          json.dumps({"num_experts": EXPERTS, "num_experts_per_token": TOP_K}))
    for rank in range(2):
        tensors = []
        for it in range(100, 103):
            for layer, row in enumerate(counts(20 + 10 * rank + it % 3)):
                tensors.append((f"{it}_{layer}", np.array(row, dtype=np.int64), "I64"))
        write_safetensors(os.path.join(d, f"rank{rank}.safetensors"), tensors)


if __name__ == "__main__":
    main()
