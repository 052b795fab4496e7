"""An independent reference for moescope's figures on llama-server logs, written directly
from docs/FIGURES.md with numpy (the way users' scripts compute them), sharing no code with
moescope. Used by check_reference.py."""
import math

import numpy as np


def parse_llama_log(path):
    """Returns (selections: list of (layer, [ids])), gates: list of (layer, token, vector),
    headers_at: indexes into gates where a header line was seen). Only complete lines."""
    data = open(path, "rb").read()
    complete = data[: data.rfind(b"\n") + 1] if b"\n" in data else b""
    sels, gates, events = [], [], []
    for raw in complete.split(b"\n")[:-1]:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if line.startswith("layer_id,expert_ids"):
            events.append(("header",))
        elif line[:1].isdigit():
            layer, ids = line.split(",", 1)
            sels.append((int(layer), [int(x) for x in ids.split()]))
        elif line.startswith("gate_input,"):
            _, layer, token, vals = line.split(",", 3)
            events.append(("gate", int(layer), int(token), np.array([float(x) for x in vals.split()], dtype=np.float64)))
    return sels, events


def layer_figures(h):
    h = np.asarray(h, dtype=np.float64)
    E = len(h)
    S = h.sum()
    mean = S / E
    srt = np.sort(h)
    p = h[h > 0] / S
    H = float(-(p * np.log2(p)).sum())
    return {
        "selections": int(S),
        "num_experts": E,
        "unique_experts": int((h > 0).sum()),
        "dead_experts": int((h == 0).sum()),
        "mean": mean,
        "median": float(np.median(h)),
        "min": int(srt[0]),
        "max": int(srt[-1]),
        "std": float(np.std(h, ddof=1)),
        "cv": float(np.std(h, ddof=1) / mean),
        "gini": float(np.abs(h[:, None] - h[None, :]).sum() / (2 * E * E * mean)),
        "entropy_bits": H,
        "entropy_norm": H / math.log2(E),
        "top5_share": float(srt[-5:].sum() / S),
        "top10_share": float(srt[-10:].sum() / S),
        "max_over_mean": float(srt[-1] / mean),
    }


def routing_figures(sels, num_experts=None, decay=0.99999):
    E = num_experts or (max(max(ids) for _, ids in sels) + 1)
    layers = {}
    for layer, ids in sels:
        L = layers.setdefault(layer, {"tokens": 0, "h": np.zeros(E), "ema": np.zeros(E)})
        L["tokens"] += 1
        x = np.zeros(E)
        x[ids] = 1.0 / len(ids)
        L["ema"] = decay * L["ema"] + (1 - decay) * x
        L["h"][ids] += 1
    out = {}
    for layer, L in layers.items():
        f = layer_figures(L["h"])
        f["tokens"] = L["tokens"]
        f["hits"] = {e: int(L["h"][e]) for e in range(E)}
        f["ema"] = {e: float(L["ema"][e]) for e in range(E)}
        out[layer] = f
    glob = np.zeros(E)
    for L in layers.values():
        glob += L["h"]
    g = layer_figures(glob)
    g["tokens"] = len(sels)
    return out, g


def distances(u, v):
    d = u - v
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return {
        "cosine_similarity": cos,
        "cosine_distance": 1 - cos,
        "euclidean": float(np.linalg.norm(d)),
        "l2_normalized": float(np.linalg.norm(d) / np.sqrt(len(u))),
        "l1": float(np.abs(d).sum()),
        "pearson": float(np.corrcoef(u, v)[0, 1]),
        "max_abs_diff": float(np.abs(d).max()),
        "mean_abs_diff": float(np.abs(d).mean()),
    }


def gate_pairs(events, first_only=False):
    """Pairs token t's vector at layer L2 with its vector at the nearest logged layer below,
    in the same forward pass (a pass ends when the layer number drops, or at a header)."""
    pending = {}  # token -> (pass, layer, vector)
    passno, last_layer = 0, -1
    acc = {}
    for ev in events:
        if ev[0] == "header":
            passno += 1
            last_layer = -1
            continue
        _, layer, token, vec = ev
        if layer < last_layer:
            passno += 1
        last_layer = layer
        prev = pending.get(token)
        if prev and prev[0] == passno and prev[1] < layer and (token == 0 or not first_only):
            acc.setdefault((prev[1], layer), []).append(distances(prev[2], vec))
        pending[token] = (passno, layer, vec)
    out = {}
    for key, rows in acc.items():
        out[key] = {"count": len(rows)}
        for m in rows[0]:
            vals = np.array([r[m] for r in rows])
            vals = vals[~np.isnan(vals)]
            out[key][m] = {"mean": vals.mean(), "std": vals.std(), "min": vals.min(), "max": vals.max()}
    return out


# --- deeper analyses (issue 4), from records as dicts: layer, experts, tag, weights, logits, ts ---

def read_ndjson(paths):
    import json
    recs = []
    for p in paths:
        for line in open(p):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("type") in ("meta", "gate_input") or "layer" not in r:
                continue
            recs.append({"layer": r["layer"], "experts": r.get("experts"), "tag": r.get("dataset", r.get("tag")),
                         "weights": r.get("gating_probs", r.get("weights")), "logits": r.get("logits"),
                         "ts": r.get("ts")})
    return recs


def select(recs, tag):
    return [r for r in recs if tag == "all" or r["tag"] == tag]


def hits_matrix(recs, E):
    """{layer: (T, h[E])}"""
    out = {}
    for r in recs:
        T, h = out.setdefault(r["layer"], [0, np.zeros(E)])
        out[r["layer"]][0] += 1
        h[r["experts"]] += 1
    return out


def cooc(recs, E):
    out = {}
    for r in recs:
        C = out.setdefault(r["layer"], np.zeros((E, E)))
        ex = r["experts"]
        for i in range(len(ex)):
            for j in range(i + 1, len(ex)):
                a, b = sorted((ex[i], ex[j]))
                C[a, b] += 1
    res = {}
    H = hits_matrix(recs, E)
    for layer, C in out.items():
        T, h = H[layer]
        for a in range(E):
            for b in range(a + 1, E):
                c = C[a, b]
                if c:
                    res[(layer, a, b)] = {"count": int(c), "p_b_given_a": c / h[a], "p_a_given_b": c / h[b],
                                          "jaccard": c / (h[a] + h[b] - c), "lift": c * T / (h[a] * h[b])}
    return res


def layer_corr(recs, E, delta_max):
    H = hits_matrix(recs, E)
    a = {l: h / T for l, (T, h) in H.items()}
    res = {}
    for l in a:
        for d in range(1, delta_max + 1):
            if l + d in a:
                x, y = a[l], a[l + d]
                res[(l, d)] = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else None
    return res


def periodic(corr, delta):
    vals = np.array([r for (l, d), r in corr.items() if d == delta and r is not None])
    return (float(vals.mean()), float(vals.std()), len(vals)) if len(vals) else (None, None, 0)


def js_bits(h1, h2):
    p, q = h1 / h1.sum(), h2 / h2.sum()
    m = (p + q) / 2
    def kl(x):
        nz = x > 0
        return float((x[nz] * np.log2(x[nz] / m[nz])).sum())
    return 0.5 * kl(p) + 0.5 * kl(q)


def logit_figures(recs, E):
    out = {}
    for r in recs:
        if r["logits"] is None and r["weights"] is None:
            continue
        L = out.setdefault(r["layer"], {"logits": [], "probs": [], "mass": [], "wsum": []})
        if r["logits"] is not None:
            lg = np.array(r["logits"], dtype=np.float32).astype(np.float64)
            p = np.exp(lg - lg.max())
            p /= p.sum()
            L["logits"].append(lg)
            L["probs"].append(p)
            L["mass"].append(p[r["experts"]].sum())
        if r["weights"] is not None:
            L["wsum"].append(float(np.array(r["weights"], dtype=np.float32).astype(np.float64).sum()))
    return out


def histogram(values, lo, hi, bins):
    v = np.asarray(values, dtype=np.float64).ravel()
    width = (hi - lo) / bins
    idx = np.floor((v - lo) / width).astype(np.int64)
    under = int((v < lo).sum())
    over = int((v >= hi).sum())
    inside = idx[(v >= lo) & (v < hi)]
    counts = np.bincount(np.minimum(inside, bins - 1), minlength=bins)
    return under, [int(c) for c in counts], over
