#!/usr/bin/env python3
"""Writes one small deterministic sample in each non-llama input format, all describing the
same routing (4 layers, 16 experts, top-2, two prompt classes), so `moescope analyze` gives
the same figures for each:

    samples/ndjson/routing.ndjson              NDJSON: meta, aliases, a batch, gate_input
    samples/router_pipeline/routing_doc.json   router-pipeline JSON document (pretty-printed)
    samples/eval_callback/eval_callback.txt    llama.cpp eval-callback text (no tags/weights)

    python3 samples/gen_other_formats.py
Standard library only; fixed seed.
"""
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS, EXPERTS, TOP_K = 4, 16, 2
rng = random.Random(2024)


def route(tag, layer):
    """Router logits with a tag-dependent hot expert, softmax, top-k."""
    hot = (layer * 3 + (0 if tag == "code" else 7)) % EXPERTS
    logits = [rng.gauss(0, 1) + (2.0 if e == hot else 0.0) for e in range(EXPERTS)]
    m = max(logits)
    p = [math.exp(x - m) for x in logits]
    s = sum(p)
    p = [x / s for x in p]
    top = sorted(range(EXPERTS), key=lambda e: -p[e])[:TOP_K]
    w = [p[e] for e in top]
    ws = sum(w)
    return top, [round(x / ws, 6) for x in w], [round(x, 5) for x in logits]


samples = []  # (tag, sample_id, {layer: [(experts, weights, logits) per token]})
for sid, tag in enumerate(["code", "math", "code", "math"]):
    n_tok = 6 + sid
    samples.append((tag, sid, {l: [route(tag, l) for _ in range(n_tok)] for l in range(LAYERS)}))


def write_ndjson(path):
    with open(path, "w") as f:
        f.write(json.dumps({"type": "meta", "model_id": "toy-moe-16x", "num_experts": EXPERTS, "top_k": TOP_K}) + "\n")
        aliases = [("layer", "experts", "weights", "token"), ("layer_id", "topk_ids", "topk_weights", "token_idx"),
                   ("layer", "selected_experts", "gating_probs", "token_pos"), ("layer_id", "expert_ids", "expert_weights", "token_id")]
        for tag, sid, layers in samples:
            for l, toks in layers.items():
                if sid == 3:  # one batch record per layer: lists of lists
                    f.write(json.dumps({"layer": l, "experts": [t[0] for t in toks], "weights": [t[1] for t in toks],
                                        "token": 0, "tag": tag, "request_id": "req-%d" % sid}) + "\n")
                    continue
                for i, (e, w, lg) in enumerate(toks):
                    lk, ek, wk, tk = aliases[(sid + l + i) % 4]
                    rec = {lk: l, ek: e, wk: w, tk: i, "dataset" if i % 2 else "tag": tag, "sample_id": sid}
                    f.write(json.dumps(rec) + "\n")
            # gate inputs of token 0 at layers 1 and 2 (n_embd 8)
            base = [rng.gauss(0, 1) for _ in range(8)]
            for l in (1, 2):
                vec = [round(x + rng.gauss(0, 0.2) * l, 5) for x in base]
                f.write(json.dumps({"type": "gate_input", "layer": l, "token": 0, "values": vec, "tag": tag}) + "\n")


def write_router_doc(path):
    # One document per file holds one dataset; this sample keeps the "code" samples.
    doc = {"config": {"model": "toy-moe-16x"}, "num_experts": EXPERTS, "top_k": TOP_K, "dataset": "code",
           "samples": [{"sample_id": sid, "layers": [
               {"layer": l, "router_logits_sample": [t[2] for t in toks], "selected_experts": [t[0] for t in toks],
                "expert_weights": [t[1] for t in toks]} for l, toks in layers.items()]}
               for tag, sid, layers in samples if tag == "code"]}
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)


def write_eval_callback(path):
    with open(path, "w") as f:
        f.write("llama_model_loader: loaded meta data with 38 key-value pairs\n")
        for tag, sid, layers in samples:
            for l, toks in layers.items():
                f.write("Layer %d - Selected Expert IDs (top-%d):\n" % (l, TOP_K))
                for i, (e, w, lg) in enumerate(toks):
                    f.write("  Token %d: [%s]\n" % (i, ", ".join(map(str, e))))


write_ndjson(os.path.join(HERE, "ndjson", "routing.ndjson"))
write_router_doc(os.path.join(HERE, "router_pipeline", "routing_doc.json"))
write_eval_callback(os.path.join(HERE, "eval_callback", "eval_callback.txt"))
