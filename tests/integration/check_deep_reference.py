#!/usr/bin/env python3
"""Issue 4's analyses against an independent numpy computation (reference.py): co-occurrence,
layer correlation and periodicity, tag comparison, router logits and weights, the timeline
and --since/--until windows; on the real Mixtral traces and on a generated log with logits,
timestamps and edge cases (a layer with one token, experts never seen, a tag with no
records). Then the daemon's database must give the same numbers as analyze."""
import json
import os
import random
import tempfile
import time

import numpy as np

import reference as ref
from harness import SOURCE, check, cli, cli_json, ingest

MIXTRAL = [os.path.join(SOURCE, "samples", "realdata", "mixtral", f)
           for f in ("humaneval_2_routing.jsonl", "gsm8k_2_routing.jsonl")]


def close(a, b, rel=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= rel * max(1.0, abs(b))


def check_cooc(doc, recs, E, tag, label):
    want = ref.cooc(ref.select(recs, tag), E)
    got = {(p["layer"], p["a"], p["b"]): p for p in doc["cooc"] if p["tag"] == tag}
    check(set(got) == set(want), "%s cooc pairs (%s): %d vs %d" % (label, tag, len(got), len(want)))
    for k, w in want.items():
        for f, v in w.items():
            check(close(got[k][f], v), "%s cooc %s %s: %r vs numpy %r" % (label, k, f, got[k][f], v))


def check_corr(doc, recs, E, tag, label, delta_max=30):
    want = ref.layer_corr(ref.select(recs, tag), E, delta_max)
    got = {(c["layer"], c["delta"]): c["r"] for c in doc["layer_correlation"]}
    check(set(got) == set(want), "%s corr pairs" % label)
    for k, r in want.items():
        check(close(got[k], r), "%s r%s: %r vs numpy %r" % (label, k, got[k], r))
    for p in doc["periodic"]:
        m, s, n = ref.periodic(want, p["delta"])
        check(p["n"] == n and close(p["mean"], m) and close(p["std"], s), "%s periodic %d" % (label, p["delta"]))


def check_compare(doc, recs, E, a, b, label):
    Ha, Hb = ref.hits_matrix(ref.select(recs, a), E), ref.hits_matrix(ref.select(recs, b), E)
    rows = {c["layer"]: c for c in doc["compare"]}
    for layer in set(Ha) & set(Hb):
        c = rows[layer]
        ha, hb = Ha[layer][1], Hb[layer][1]
        check(close(c["js_divergence_bits"], ref.js_bits(ha, hb)), "%s JS layer %d" % (label, layer))
        for e in c["experts"]:
            sa, sb = ha[e["expert"]] / ha.sum(), hb[e["expert"]] / hb.sum()
            check(close(e["share_a"], sa) and close(e["share_b"], sb), "%s shares" % label)
            check(e["ratio"] is None if sb == 0 else close(e["ratio"], sa / sb), "%s ratio" % label)
        # ordered by |difference|, and it is the largest one
        diffs = [abs(x["diff"]) for x in c["experts"]]
        check(diffs == sorted(diffs, reverse=True), "%s compare order" % label)
        check(close(diffs[0], float(np.abs(ha / ha.sum() - hb / hb.sum()).max())), "%s top diff" % label)
    allrow = rows[None]
    check(close(allrow["js_divergence_bits"],
                ref.js_bits(sum(h for _, h in Ha.values()), sum(h for _, h in Hb.values()))), "%s JS all" % label)


def check_logits(doc, recs, E, label):
    want = ref.logit_figures(recs, E)
    got = {l["layer"]: l for l in doc["logits"]}
    check(set(got) == set(want), "%s logit layers" % label)
    for layer, w in want.items():
        g = got[layer]
        if w["logits"]:
            lg = np.array(w["logits"])
            for e in range(lg.shape[1]):
                x = g["experts"][e]
                col = lg[:, e]
                check(x["count"] == len(col), "%s logit count" % label)
                for f, v in (("mean", col.mean()), ("std", col.std()), ("min", col.min()), ("max", col.max())):
                    check(close(x[f], float(v), 1e-6), "%s layer %d expert %d logit %s: %r vs %r" % (label, layer, e, f, x[f], v))
        for name, vals, lo, hi, bins in (("logits", w["logits"], -20, 20, 80), ("probs", w["probs"], 0, 1, 50),
                                         ("topk_prob_mass", w["mass"], 0, 1, 50),
                                         ("topk_weight_sum", w["wsum"], 0, 2, 40)):
            h = g["histograms"][name]
            under, counts, over = ref.histogram(vals if len(vals) else [], lo, hi, bins)
            # Values on a bin edge may land on either side between float32/float64: allow
            # a handful of moves, but the totals must be exact.
            moved = sum(abs(a - b) for a, b in zip(h["counts"], counts)) // 2
            check(sum(h["counts"]) + h["underflow"] + h["overflow"] == sum(counts) + under + over,
                  "%s histogram %s total" % (label, name))
            check(moved <= max(2, len(vals) // 1000), "%s histogram %s differs in %d values" % (label, name, moved))


def check_timeline(db_or_file, recs, E, is_db, label):
    want = {}
    for r in recs:
        if r["ts"] is None:
            continue
        b = int(np.floor(r["ts"])) // 60 * 60
        for layer in (r["layer"], None):
            T, h = want.setdefault((layer, b), [0, np.zeros(E)])
            want[(layer, b)][0] += 1
            h[r["experts"]] += 1
    for layer in sorted({k[0] for k in want}, key=lambda x: -1 if x is None else x):
        args = [] if layer is None else ["--layer", str(layer)]
        doc = cli_json(*(["--db", db_or_file, "timeline"] + args if is_db else ["analyze", db_or_file] + args))
        got = {row["start"]: row for row in doc["timeline"]}
        w = {b: v for (l, b), v in want.items() if l == layer}
        check(set(got) == set(w), "%s timeline buckets (layer %s)" % (label, layer))
        for b, (T, h) in w.items():
            check(got[b]["tokens"] == T and got[b]["hits"] == [int(x) for x in h], "%s bucket %d" % (label, b))
    return want


def generated_log(path):
    rng = random.Random(5)
    E, k = 20, 3  # meta states 20 experts; ids stay below 16: four are never seen
    lines = [json.dumps({"type": "meta", "model_id": "gen", "num_experts": E, "top_k": k})]
    # Two days ago, on an hour: the daemon rejects times more than a day ahead of its clock.
    t0 = float((int(time.time()) // 3600 - 48) * 3600)
    for i in range(900):
        layer = rng.randrange(6) if i else 5  # layer 5 gets exactly one token
        if layer == 5 and i:
            layer = 4
        logits = [round(rng.gauss(0, 2), 4) for _ in range(E)]
        for e in range(16, E):
            logits[e] = -30.0  # never selected
        top = sorted(range(E), key=lambda e: -logits[e])[:k]
        w = [round(rng.random(), 4) for _ in top]
        lines.append(json.dumps({"layer": layer, "experts": top, "weights": w, "logits": logits,
                                 "tag": "code" if i % 3 else "math", "ts": t0 + i * 0.7}))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return E


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # --- Mixtral traces through analyze ---
        recs = ref.read_ndjson(MIXTRAL)
        E = 8
        for tag in ("all", "gsm8k"):
            doc = cli_json("analyze", *MIXTRAL, "--tag", tag, "--top", "1000", "--vs", "humaneval")
            check_cooc(doc, recs, E, tag, "mixtral")
            check_corr(doc, recs, E, tag, "mixtral")
            check_logits(doc, ref.select(recs, tag), E, "mixtral")
        doc = cli_json("analyze", *MIXTRAL, "--tag", "gsm8k", "--vs", "humaneval", "--top", "8")
        check_compare(doc, recs, E, "gsm8k", "humaneval", "mixtral")
        print("  Mixtral: cooc, corr (delta 1..30, periodic 12/24), compare, weight sums == numpy")

        # --- generated log: logits, timestamps, edge cases ---
        gen = os.path.join(tmp, "gen.ndjson")
        E = generated_log(gen)
        junk = os.path.join(tmp, "junk.log")
        with open(junk, "w") as f:
            f.write('{"layer": 1, "experts": [1, 1]}\n')  # a tag whose only record is rejected
        grecs = ref.read_ndjson([gen])
        doc = cli_json("analyze", gen, junk + "=empty", "--top", "1000", "--delta-max", "5", "--periodic", "2,3")
        check_cooc(doc, grecs, E, "all", "generated")
        check_corr(doc, grecs, E, "all", "generated", 5)
        check_logits(doc, grecs, E, "generated")
        one = [l for l in doc["layers"] if l["layer"] == 5][0]
        check(one["tokens"] == 1 and one["dead_experts"] == E - 3 and one["num_experts"] == E, "one-token layer")
        check(all(l["dead_experts"] >= 4 for l in doc["layers"]), "experts never seen are dead")
        check_timeline(gen, grecs, E, False, "analyze")
        check("No routing records for tag 'empty'" in cli("analyze", gen, junk + "=empty", "--tag", "empty").stdout,
              "a tag with no records says so")
        check("share no layer" in cli("analyze", gen, junk + "=empty", "--tag", "empty", "--vs", "all").stdout,
              "comparing with an empty tag says so")
        # A window of [t0 + 120 s, t0 + 360 s) by bucket start: figures from those records only.
        t0 = int(min(r["ts"] for r in grecs if r["ts"] is not None))  # generated_log's t0
        lo, hi = t0 + 120 - (t0 + 120) % 60, t0 + 360 - (t0 + 360) % 60
        win = [r for r in grecs if lo <= int(r["ts"]) // 60 * 60 < hi]
        wdoc = cli_json("analyze", gen, "--since", str(lo), "--until", str(hi))
        layers_w, _ = ref.routing_figures([(r["layer"], r["experts"]) for r in win], E)
        for l in wdoc["layers"]:
            w = layers_w[l["layer"]]
            check(l["tokens"] == w["tokens"] and close(l["gini"], w["gini"]), "window layer %d" % l["layer"])
        check(cli("analyze", gen, "--since", str(lo), "--json").returncode == 0, "windowed analyze runs")
        p = cli("analyze", MIXTRAL[0], "--since", "-1h", expect_rc=2)
        check("no ts/timestamp field" in p.stderr, "a window over untimed records explains itself: %r" % p.stderr)
        print("  generated log: logits moments and histograms, timeline, window, edge cases == numpy")

        # --- the daemon gives the same numbers (one database per model) ---
        for files, n, label in ((MIXTRAL, 10779 + 7889, "mixtral"), ([gen], 900, "generated")):
            # The generated log's times are fixed and age: keep its minute buckets (the
            # window below is minutes wide), not the hour buckets of a roll-up.
            db = ingest(os.path.join(tmp, label + ".db"), files, n, "--rollup-hour-after-h", "0")
            cmds = [("cooc", ["--top", "1000"]), ("corr", []), ("logits", [])]
            if label == "mixtral":
                cmds.append(("compare", ["--tag", "gsm8k", "--vs", "humaneval"]))
            for cmd, extra in cmds:
                want = cli_json("analyze", *files, *extra)
                got = cli_json("--db", db, cmd, *extra)
                key = {"cooc": "cooc", "corr": "layer_correlation", "logits": "logits", "compare": "compare"}[cmd]
                check(got[key] == want[key], "%s: daemon %s == analyze" % (label, cmd))
            tl = cli_json("--db", db, "timeline", "--layer", "3")["timeline"]
            check(sum(r["tokens"] for r in tl) == cli_json("--db", db, "layers", "--layer", "3")["layers"][0]["tokens"],
                  "%s: timeline buckets add up to the totals" % label)
            if label == "mixtral":
                # No timestamps: the daemon timed the records on arrival, within the last hour.
                recent = cli_json("--db", db, "layers", "--since", "-1h")
                check(recent["global"]["tokens"] == n, "records timed on arrival fall in the last hour")
            else:
                win = cli_json("--db", db, "layers", "--since", str(lo), "--until", str(hi))
                win_recs = [r for r in grecs if lo <= int(r["ts"]) // 60 * 60 < hi]
                check(win["global"]["tokens"] == len(win_recs) > 0, "daemon window on record timestamps (%d vs %d)" % (win["global"]["tokens"], len(win_recs)))
                check(all(l["experts"][0]["ema"] is None for l in win["layers"]), "EMA is undefined in a window")
                check_timeline(db, grecs, E, True, "daemon")
        print("  daemon database == analyze for cooc, corr, logits, compare; timeline adds up")
    print("ok: deep analytics == numpy reference")


if __name__ == "__main__":
    main()
