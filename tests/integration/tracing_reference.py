"""An independent reference for the token-following figures of docs/FIGURES.md (routing
diff, requests, positions, affinity), written from their definitions with numpy and
scipy, sharing no code with moescope. Used by test_tracing_reference.py."""
import json
import math
from collections import defaultdict

import numpy as np
from scipy.spatial.distance import jensenshannon

REQUEST_KEYS = ("request", "req_id", "request_id", "sample_id", "problem_id")
TOKEN_KEYS = ("token", "token_idx", "token_pos", "token_id")
WEIGHT_KEYS = ("weights", "topk_weights", "gating_probs", "expert_weights")
EXPERT_KEYS = ("experts", "expert_ids", "topk_ids", "selected_experts")
BUCKETS = ["0", "1-15", "16-127", "128-1023", "1024+"]


def first(obj, keys, default=None):
    for k in keys:
        if k in obj:
            return obj[k]
    return default


def read_records(path):
    """Routing records as dicts: layer, experts, weights, request (str or None), token,
    phase, pass, row. NDJSON (one flat record a line) or llama-server CSV; for CSV the
    forward pass and row are counted from the order of lines: a batch is a run of one
    layer's lines, a new pass starts where the layer drops back or after a header."""
    recs = []
    prev_layer, pass_no, row = None, -1, 0
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("{"):
            o = json.loads(line)
            req = first(o, REQUEST_KEYS)
            if isinstance(req, bool) or not isinstance(req, (str, int)):
                req = None
            elif isinstance(req, int):
                req = str(req)
            rec = {"layer": o.get("layer", o.get("layer_id")), "experts": list(first(o, EXPERT_KEYS)),
                   "weights": first(o, WEIGHT_KEYS), "request": req,
                   "token": first(o, TOKEN_KEYS, -1), "phase": o.get("phase", ""),
                   "tag": first(o, ("tag", "dataset"), "all")}
        elif line.startswith("layer_id,"):
            prev_layer = None
            continue
        elif line[0].isdigit():
            layer, ids = line.split(",", 1)
            rec = {"layer": int(layer), "experts": [int(x) for x in ids.split()], "weights": None,
                   "request": None, "token": -1, "phase": "", "tag": "all"}
        else:
            continue
        if rec["layer"] == prev_layer:
            row += 1
        else:
            if prev_layer is None or rec["layer"] < prev_layer:
                pass_no += 1
            prev_layer, row = rec["layer"], 0
        rec["pass"], rec["row"] = pass_no, row
        recs.append(rec)
    return recs


def position(r):
    return r["token"] if r["token"] >= 0 else r["row"]


def token_id(r):
    if r["request"] is not None and r["request"] != "":
        return ("request", r["request"], position(r))
    return ("pass", r["pass"], position(r))


def stream_id(r):
    t = token_id(r)
    return t[:2]


def bucket(p):
    return 0 if p == 0 else 1 if p < 16 else 2 if p < 128 else 3 if p < 1024 else 4


def compare(a, b):
    """One aligned token: (top1, overlap, exact, jaccard, weight mass or None)."""
    sa, sb = set(a["experts"]), set(b["experts"])
    shared = sa & sb
    k = max(len(sa), len(sb))
    mass = None
    if a["weights"] is not None and b["weights"] is not None:
        wa = dict(zip(a["experts"], a["weights"]))
        wb = dict(zip(b["experts"], b["weights"]))
        mass = sum(min(np.float32(wa[e]), np.float32(wb[e])) for e in shared)
    return (a["experts"][0] == b["experts"][0], len(shared) / k, sa == sb,
            len(shared) / len(sa | sb), mass)


def agreement(rows):
    n = len(rows)
    if n == 0:
        return {"aligned": 0, "top1_agreement": None, "overlap": None, "exact_agreement": None,
                "jaccard": None, "weight_mass_overlap": None}
    arr = np.array([r[:4] for r in rows], dtype=np.float64)
    masses = [r[4] for r in rows if r[4] is not None]
    return {"aligned": n, "top1_agreement": arr[:, 0].mean(), "overlap": arr[:, 1].mean(),
            "exact_agreement": arr[:, 2].mean(), "jaccard": arr[:, 3].mean(),
            "weight_mass_overlap": float(np.mean(masses)) if masses else None}


def diff(recs_a, recs_b):
    """The routing diff of two runs with no duplicate (token, layer) and a window that
    never fills."""
    ka = {(token_id(r), r["layer"]): r for r in recs_a}
    kb = {(token_id(r), r["layer"]): r for r in recs_b}
    streams_a = {stream_id(r) for r in recs_a}
    streams_b = {stream_id(r) for r in recs_b}
    per_layer = defaultdict(list)
    only = defaultdict(lambda: {"a": defaultdict(int), "b": defaultdict(int)})
    flows = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # layer -> expert -> [gained, lost]
    flips = defaultdict(lambda: defaultdict(int))
    pairs = defaultdict(list)  # layer -> aligned (A's experts, B's experts)
    by_token = defaultdict(list)
    by_bucket = defaultdict(list)
    by_phase = defaultdict(list)
    phase_order = []
    for key, a in ka.items():
        layer = key[1]
        if key not in kb:
            why = "different_length" if key[0][:2] in streams_b else "missing_request"
            only[layer]["a"][why] += 1
            continue
        b = kb[key]
        m = compare(a, b)
        per_layer[layer].append(m)
        pairs[layer].append((a["experts"], b["experts"]))
        lost = [e for e in a["experts"] if e not in b["experts"]]
        gained = [e for e in b["experts"] if e not in a["experts"]]
        for e in gained:
            flows[layer][e][0] += 1
        for e in lost:
            flows[layer][e][1] += 1
        for x, y in zip(lost, gained):
            flips[layer][(x, y)] += 1
        by_token[key[0]].append(not m[2])
        by_bucket[bucket(key[0][2])].append(m)
        phase = a["phase"] or b["phase"]
        if phase:
            by_phase[phase].append(m)
    for key, b in kb.items():
        if key not in ka:
            why = "different_length" if key[0][:2] in streams_a else "missing_request"
            only[key[1]]["b"][why] += 1
    layers = sorted(set(per_layer) | set(only))

    def layer_row(ls):
        rows = [m for l in ls for m in per_layer[l]]
        row = agreement(rows)
        row["only_a"] = sum(sum(only[l]["a"].values()) for l in ls)
        row["only_b"] = sum(sum(only[l]["b"].values()) for l in ls)
        for side in "ab":
            row["only_%s_why" % side] = {w: sum(only[l][side][w] for l in ls)
                                         for w in ("missing_request", "different_length")}
        fl = defaultdict(lambda: [0, 0])
        fp = defaultdict(int)
        for l in ls:
            for e, (g, lo) in flows[l].items():
                fl[e][0] += g
                fl[e][1] += lo
            for p, n in flips[l].items():
                fp[p] += n
        row["experts"] = {e: tuple(v) for e, v in fl.items() if v != [0, 0]}
        row["flips"] = dict(fp)
        return row

    def chance(l):
        """The mean overlap of A's and B's selections paired at random: every (i, j) pair
        of the layer's aligned tokens, by brute force over the n x n pairs."""
        ps = pairs[l]
        if not ps:
            return None
        experts = 1 + max(max(max(a), max(b)) for a, b in ps)
        ma = np.zeros((len(ps), experts))
        mb = np.zeros((len(ps), experts))
        for i, (a, b) in enumerate(ps):
            ma[i, a] = 1
            mb[i, b] = 1
        shared = ma @ mb.T  # |A_i ∩ B_j|
        kbar = np.mean([max(len(a), len(b)) for a, b in ps])
        return float(shared.mean() / kbar)

    def kappa(row):
        c, o = row["chance_overlap"], row["overlap"]
        return None if c is None or o is None or c >= 1 else (o - c) / (1 - c)

    out_layers = []
    for l in layers:
        row = layer_row([l])
        row["layer"] = l
        row["chance_overlap"] = chance(l)
        row["kappa"] = kappa(row)
        out_layers.append(row)
    row = layer_row(layers)
    weights = [len(pairs[l]) for l in layers if pairs[l]]
    row["chance_overlap"] = (float(np.average([chance(l) for l in layers if pairs[l]], weights=weights))
                             if weights else None)
    row["kappa"] = kappa(row)
    out_layers.append(row)
    counts = np.array([sum(v) for v in by_token.values()], dtype=np.int64)
    return {"layers": out_layers,
            "tokens": {"aligned": len(by_token), "differ_in_any_layer": int((counts > 0).sum()),
                       "differing_layers": np.bincount(counts).tolist() if len(counts) else []},
            "positions": [dict(agreement(by_bucket[i]), bucket=BUCKETS[i]) for i in range(5)],
            "phases": {p: agreement(v) for p, v in by_phase.items()}}


def requests(recs, capacities):
    """A request is its id within its tag: problem 0 of two datasets is two requests."""
    cells = {}  # ((tag, request), layer) -> [tokens, set, growth]
    order = []
    for r in recs:
        if not r["request"]:
            continue
        q = (r["tag"], r["request"])
        if q not in order:
            order.append(q)
        c = cells.setdefault((q, r["layer"]), [0, set(), []])
        c[0] += 1
        c[1].update(r["experts"])
        if c[0] & (c[0] - 1) == 0:
            c[2].append(len(c[1]))
    rows = [{"request": q[1], "tag": q[0], "layer": l, "tokens": c[0], "working_set": len(c[1])}
            for (q, l), c in sorted(cells.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1]))]

    def summary(cs):
        ws = np.array([len(c[1]) for c in cs], dtype=np.float64)
        growth = []
        i = 0
        while True:
            vals = [c[2][i] for c in cs if len(c[2]) > i]
            if not vals:
                break
            growth.append({"n": 2 ** i, "mean_working_set": float(np.mean(vals)), "count": len(vals)})
            i += 1
        return {"requests": len(cs), "working_set_p50": float(np.percentile(ws, 50)),
                "working_set_p90": float(np.percentile(ws, 90)), "working_set_max": int(ws.max()),
                "working_set_mean": float(ws.mean()), "growth": growth,
                "over_capacity": [{"capacity": c, "share": float((ws > c).mean())} for c in capacities]}

    layers = []
    for l in sorted({l for (_, l) in cells}):
        row = summary([c for (q, ll), c in cells.items() if ll == l])
        row["layer"] = l
        layers.append(row)
    layers.append(summary(list(cells.values())))
    return {"requests": rows, "layers": layers}


def gini(h):
    h = np.asarray(h, dtype=np.float64)
    return float(np.abs(h[:, None] - h[None, :]).sum() / (2 * len(h) ** 2 * h.mean()))


def entropy_bits(h):
    p = np.asarray(h, dtype=np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log2(p)).sum())


def positions(recs):
    E = max(e for r in recs for e in r["experts"]) + 1
    whole = defaultdict(lambda: np.zeros(E, dtype=np.int64))
    groups = defaultdict(lambda: defaultdict(lambda: [0, np.zeros(E, dtype=np.int64)]))
    phase_order = []
    for r in recs:
        whole[r["layer"]][r["experts"]] += 1
        p = position(r)
        keys = []
        if p >= 0:
            keys.append(("position", BUCKETS[bucket(p)]))
        if r["phase"]:
            if r["phase"] not in phase_order:
                phase_order.append(r["phase"])
            keys.append(("phase", r["phase"]))
        for k in keys:
            g = groups[k][r["layer"]]
            g[0] += 1
            g[1][r["experts"]] += 1
    out = []

    def row(kind, group, layer, tokens, h, w):
        order = np.lexsort((np.arange(E), -h))
        top = [{"expert": int(e), "share": h[e] / h.sum()} for e in order[:5] if h[e] > 0]
        return {"kind": kind, "group": group, "layer": layer, "tokens": tokens, "gini": gini(h),
                "entropy_bits": entropy_bits(h),
                "js_divergence_bits": float(jensenshannon(h, w, base=2) ** 2), "top_experts": top}

    keys = [("position", b) for b in BUCKETS] + [("phase", p) for p in phase_order]
    for k in keys:
        if k not in groups:
            continue
        ls = groups[k]
        for l in sorted(ls):
            out.append(row(k[0], k[1], l, ls[l][0], ls[l][1], whole[l]))
        out.append(row(k[0], k[1], None, sum(v[0] for v in ls.values()),
                       sum(v[1] for v in ls.values()), sum(whole.values())))
    return out


def positions_left_out(recs, max_phases=64):
    """The layer records `positions` leaves out of every group of a kind."""
    phases, past_cap = [], 0
    for r in recs:
        if r["phase"] and r["phase"] not in phases:
            if len(phases) == max_phases:
                past_cap += 1
                continue
            phases.append(r["phase"])
    return {"records_without_position": sum(1 for r in recs if position(r) < 0),
            "records_without_phase": sum(1 for r in recs if not r["phase"]),
            "records_past_phase_cap": past_cap}


def affinity(recs, split, multipliers=(1, 2, 4)):
    """Transitions of each token from layer l to l + 1, in the order the l + 1 records
    come (each after its l record in these logs)."""
    last = {}
    events = defaultdict(list)  # from layer -> [(A, B)]
    for r in recs:
        t = token_id(r)
        prev = last.get((t, r["layer"] - 1))
        if prev is not None:
            events[r["layer"] - 1].append((prev, r["experts"]))
        last[(t, r["layer"])] = r["experts"]
    out_t, out_p = [], []
    for l in sorted(events):
        ev = events[l]
        E = max(max(max(a), max(b)) for a, b in ev) + 1
        T = np.zeros((E, E), dtype=np.int64)
        na = np.zeros(E, dtype=np.int64)
        mb = np.zeros(E, dtype=np.int64)
        for a, b in ev:
            T[np.ix_(a, b)] += 1
            na[a] += 1
            mb[b] += 1
        N = len(ev)
        for a, b in zip(*np.nonzero(T)):
            out_t.append({"from_layer": l, "to_layer": l + 1, "a": int(a), "b": int(b), "count": int(T[a, b]),
                          "p_b_given_a": T[a, b] / na[a], "lift": T[a, b] * N / (na[a] * mb[b])})
        P = T / T.sum()
        pa, pb = P.sum(axis=1), P.sum(axis=0)
        nz = P > 0
        mi = float((P[nz] * np.log2(P[nz] / np.outer(pa, pb)[nz])).sum())
        # Prefetch: fit on the first floor(split * N) pairs, score the rest.
        fit = int(math.floor(split * N))
        Tf = np.zeros((E, E), dtype=np.int64)
        nf = np.zeros(E, dtype=np.int64)
        hot = np.zeros(E, dtype=np.int64)
        for a, b in ev[:fit]:
            Tf[np.ix_(a, b)] += 1
            nf[a] += 1
            hot[b] += 1
        k = len(ev[0][1])
        recall, static = {}, {}
        for mult in multipliers:
            m = min(mult * k, E)
            hottest = np.lexsort((np.arange(E), -hot))[:m]
            sel = got = got_static = 0
            for a, b in ev[fit:]:
                score = np.zeros(E)
                for x in a:
                    if nf[x]:
                        score = score + Tf[x] / nf[x]
                pred = np.lexsort((np.arange(E), -hot, -score))[:m]
                sel += len(b)
                got += len(set(pred.tolist()) & set(b))
                got_static += len(set(hottest.tolist()) & set(b))
            recall[str(m)] = got / sel if sel else None
            static[str(m)] = got_static / sel if sel else None
        out_p.append({"from_layer": l, "to_layer": l + 1, "tokens": N, "mutual_information_bits": max(mi, 0.0),
                      "fitted": fit, "scored": N - fit, "recall": recall, "static_recall": static})
    return {"transitions": out_t, "pairs": out_p}
