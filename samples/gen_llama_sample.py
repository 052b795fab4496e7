#!/usr/bin/env python3
"""Writes a small deterministic log in the patched llama-server format.

    python3 samples/gen_llama_sample.py > samples/llama_server/moe_expert_selection.log

Shape: 6 MoE layers (0-5), 32 experts, top-4, Zipf-skewed routing with a different hot
set per layer; 3 requests, each a 12-token prompt batch followed by 10 generated tokens;
gate_input lines (n_embd 24) for layers 2, 3 and 4, logged before that layer's selection
lines as the real patch does; a few unrelated server log lines mixed in. Standard library
only, fixed seed: the output is byte-for-byte reproducible.
"""
import random

LAYERS = 6
EXPERTS = 32
TOP_K = 4
GATE_LAYERS = (2, 3, 4)
N_EMBD = 24
PROMPT = 12
GENERATED = 10
REQUESTS = 3

rng = random.Random(1234)


def fmt(x):
    # C++ ostream defaults: 6 significant digits, scientific notation when needed.
    return "%g" % x


def zipf_weights(layer):
    order = list(range(EXPERTS))
    random.Random(100 + layer).shuffle(order)
    w = [0.0] * EXPERTS
    for rank, e in enumerate(order):
        w[e] = 1.0 / (rank + 1) ** 0.9
    return w


WEIGHTS = [zipf_weights(l) for l in range(LAYERS)]


def top_k(layer):
    chosen = []
    w = list(WEIGHTS[layer])
    while len(chosen) < TOP_K:
        e = rng.choices(range(EXPERTS), weights=w)[0]
        chosen.append(e)
        w[e] = 0.0
    return chosen


def forward_pass(out, n_tokens):
    # One residual stream per token; each layer nudges it, so consecutive layers are similar.
    stream = [[rng.gauss(0, 1) for _ in range(N_EMBD)] for _ in range(n_tokens)]
    for layer in range(LAYERS):
        for t in range(n_tokens):
            stream[t] = [x + rng.gauss(0, 0.35) for x in stream[t]]
        if layer in GATE_LAYERS:
            for t in range(n_tokens):
                vals = list(stream[t])
                vals[t % N_EMBD] *= 1e-5  # exercise scientific notation
                out.append("gate_input,%d,%d,%s" % (layer, t, " ".join(fmt(v) for v in vals)))
        for t in range(n_tokens):
            out.append("%d,%s" % (layer, " ".join(str(e) for e in top_k(layer))))


def main():
    out = ["layer_id,expert_ids"]
    for r in range(REQUESTS):
        out.append("srv  launch_slot_: id  0 | task %d | processing task" % r)
        forward_pass(out, PROMPT)
        for _ in range(GENERATED):
            forward_pass(out, 1)
        out.append("slot print_timing: id  0 | task %d | prompt eval time = 12.34 ms" % r)
    print("\n".join(out))


if __name__ == "__main__":
    main()
