"""The token-following analyses of tracing/ (routing diff, requests, positions, affinity)
through the real ingest path (tests/tools/trace_dump) against tracing_reference.py's numpy,
on generated logs with known answers and on the Mixtral traces of ../shared/realdata."""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import tracing_reference as ref  # noqa: E402
from harness import BUILD, SOURCE, check, fail  # noqa: E402

DUMP = os.path.join(BUILD, "tests", "trace_dump")
MIXTRAL = os.path.join(SOURCE, "..", "shared", "realdata", "mixtral")


def dump(*args):
    p = subprocess.run([DUMP, *map(str, args)], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        fail("trace_dump %s exited %d: %s" % (" ".join(map(str, args)), p.returncode, p.stderr))
    return json.loads(p.stdout)


def close(got, want, what, rel=1e-6):
    if want is None or got is None:
        check(got is None and want is None, "%s: %r, reference %r" % (what, got, want))
        return
    check(abs(got - want) <= rel * max(1.0, abs(want)), "%s: %r, reference %r" % (what, got, want))


def same_agreement(got, want, what):
    check(got["aligned"] == want["aligned"], "%s aligned: %r vs %r" % (what, got["aligned"], want["aligned"]))
    for k in ("top1_agreement", "overlap", "exact_agreement", "jaccard", "weight_mass_overlap"):
        close(got[k], want[k], "%s %s" % (what, k))


def compare_diff(got, want, what):
    check(len(got["layers"]) == len(want["layers"]), what + ": layer rows")
    for g, w in zip(got["layers"], want["layers"]):
        where = "%s layer %s" % (what, w.get("layer", "all"))
        check(g.get("layer") == w.get("layer"), where + ": layer")
        same_agreement(g, w, where)
        for side in ("only_a", "only_b"):
            check(g[side] == w[side], "%s %s: %d vs %d" % (where, side, g[side], w[side]))
            for why, n in w[side + "_why"].items():
                check(g[side + "_why"][why] == n, "%s %s %s" % (where, side, why))
            check(g[side + "_why"]["evicted"] == 0 and g[side + "_why"]["duplicate"] == 0, where)
        experts = {e["expert"]: (e["gained"], e["lost"]) for e in g["experts"] if e["gained"] or e["lost"]}
        check(experts == w["experts"], where + ": gained/lost per expert")
        flips = sorted(w["flips"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        check([((f["from"], f["to"]), f["count"]) for f in g["top_flips"]] == flips, where + ": top flips")
    for k in ("aligned", "differ_in_any_layer", "differing_layers"):
        check(got["tokens"][k] == want["tokens"][k], "%s tokens %s: %r vs %r" % (what, k, got["tokens"][k], want["tokens"][k]))
    for g, w in zip(got["positions"], want["positions"]):
        same_agreement(g, w, "%s bucket %s" % (what, w["bucket"]))
    check([p["phase"] for p in got["phases"]] == list(want["phases"]), what + ": phases")
    for p in got["phases"]:
        same_agreement(p, want["phases"][p["phase"]], "%s phase %s" % (what, p["phase"]))


def write_ndjson(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def generated_runs(d):
    """Run A and run B of the same requests: B lacks request q4, ends q1 5 tokens early, has
    an extra request qx, and changes the last-ranked expert of every 8th token (t % 8 == 3) in
    its first 1 + t % 5 layers. 32 experts, top-4, 8 layers, weights."""
    rng = random.Random(30)
    lengths = {"q0": 30, "q1": 45, "q2": 20, "q3": 60, "q4": 25, "q5": 1100}
    a, b = [], []
    changed = 0
    for q, n in list(lengths.items()) + [("qx", 10)]:
        for t in range(n):
            phase = "prefill" if t < n // 2 else "decode"
            for layer in range(8):
                ids = rng.sample(range(32), 4)
                w = sorted((rng.random() for _ in range(4)), reverse=True)
                w = [x / sum(w) for x in w]
                rec = {"request_id": q, "token_idx": t, "layer": layer, "experts": ids,
                       "weights": w, "phase": phase}
                if q != "qx":
                    a.append(rec)
                if q == "q4" or (q == "q1" and t >= n - 5):
                    continue
                rec = dict(rec)
                if t % 8 == 3 and layer < 1 + t % 5:
                    ids = list(ids)
                    ids[3] = next(e for e in range(32) if e not in ids)
                    rec["experts"] = ids
                b.append(rec)
            if q not in ("q4", "qx") and t % 8 == 3 and not (q == "q1" and t >= n - 5):
                changed += 1
    pa, pb = os.path.join(d, "a.ndjson"), os.path.join(d, "b.ndjson")
    write_ndjson(pa, a)
    write_ndjson(pb, b)
    return pa, pb, changed


def server_logs(d):
    """Two llama-server logs of the same passes (a prompt batch, then decode passes of 1-4
    slots), 6 layers, 32 experts, top-4; B routes every 5th row of pass 7 onwards otherwise,
    and its last pass is one slot short."""
    rng = random.Random(31)
    out_a, out_b = ["layer_id,expert_ids"], ["layer_id,expert_ids"]
    batches = [12] + [rng.choice([1, 2, 3, 4]) for _ in range(40)]
    for p, rows in enumerate(batches):
        for layer in range(6):
            for row in range(rows):
                ids = rng.sample(range(32), 4)
                out_a.append("%d,%s" % (layer, " ".join(map(str, ids))))
                if p == len(batches) - 1 and row == rows - 1:
                    continue
                if p >= 7 and row % 5 == 0:
                    ids = rng.sample(range(32), 4)
                out_b.append("%d,%s" % (layer, " ".join(map(str, ids))))
    pa, pb = os.path.join(d, "a.log"), os.path.join(d, "b.log")
    open(pa, "w").write("\n".join(out_a) + "\n")
    open(pb, "w").write("\n".join(out_b) + "\n")
    return pa, pb


def planted_affinity(d):
    """16 experts, top-2, 6 layers: each expert a of layer l leads to (5a + l) % 16 at l + 1
    with probability 0.8; three requests of 300 tokens, token-major."""
    rng = random.Random(32)
    recs = []
    for q in range(3):
        for t in range(300):
            ids = rng.sample(range(16), 2)
            for layer in range(6):
                recs.append({"req_id": "r%d" % q, "token": t, "layer": layer, "experts": ids})
                nxt = []
                for a in ids:
                    b = (5 * a + layer) % 16 if rng.random() < 0.8 else rng.randrange(16)
                    while b in nxt:
                        b = rng.randrange(16)
                    nxt.append(b)
                ids = nxt
    path = os.path.join(d, "planted.ndjson")
    write_ndjson(path, recs)
    return path


def compare_requests(got, want, what):
    check(got["requests"] == want["requests"], what + ": requests rows")
    check(len(got["layers"]) == len(want["layers"]), what + ": layer rows")
    for g, w in zip(got["layers"], want["layers"]):
        where = "%s layer %s" % (what, w.get("layer", "all"))
        check(g.get("layer") == w.get("layer"), where)
        for k in ("requests", "working_set_max"):
            check(g[k] == w[k], "%s %s" % (where, k))
        for k in ("working_set_p50", "working_set_p90", "working_set_mean"):
            close(g[k], w[k], "%s %s" % (where, k))
        check([(x["n"], x["count"]) for x in g["growth"]] == [(x["n"], x["count"]) for x in w["growth"]], where + " growth")
        for x, y in zip(g["growth"], w["growth"]):
            close(x["mean_working_set"], y["mean_working_set"], where + " growth mean")
        check(g["over_capacity"] == w["over_capacity"], where + " capacity")


def compare_positions(got, want, what):
    check(len(got["positions"]) == len(want), "%s: %d rows vs %d" % (what, len(got["positions"]), len(want)))
    for g, w in zip(got["positions"], want):
        where = "%s %s %s layer %s" % (what, w["kind"], w["group"], w["layer"])
        check((g["kind"], g["group"], g.get("layer"), g["tokens"]) == (w["kind"], w["group"], w["layer"], w["tokens"]), where)
        for k in ("gini", "entropy_bits", "js_divergence_bits"):
            close(g[k], w[k], "%s %s" % (where, k), rel=1e-9)
        check([e["expert"] for e in g["top_experts"]] == [e["expert"] for e in w["top_experts"]], where + " top experts")


def compare_affinity(got, want, what):
    gt = {(t["from_layer"], t["a"], t["b"]): t for t in got["transitions"]}
    wt = {(t["from_layer"], t["a"], t["b"]): t for t in want["transitions"]}
    check(gt.keys() == wt.keys(), what + ": transition cells")
    for k, w in wt.items():
        check(gt[k]["count"] == w["count"], "%s %r count" % (what, k))
        close(gt[k]["p_b_given_a"], w["p_b_given_a"], "%s %r p(b|a)" % (what, k), rel=1e-12)
        close(gt[k]["lift"], w["lift"], "%s %r lift" % (what, k), rel=1e-12)
    check(len(got["pairs"]) == len(want["pairs"]), what + ": pairs")
    for g, w in zip(got["pairs"], want["pairs"]):
        where = "%s pair %d" % (what, w["from_layer"])
        for k in ("from_layer", "to_layer", "tokens", "fitted", "scored"):
            check(g[k] == w[k], "%s %s: %r vs %r" % (where, k, g[k], w[k]))
        close(g["mutual_information_bits"], w["mutual_information_bits"], where + " MI", rel=1e-9)
        for k in ("recall", "static_recall"):
            check(g[k].keys() == w[k].keys(), where + " " + k + " keys")
            for m in w[k]:
                close(g[k][m], w[k][m], "%s %s@%s" % (where, k, m), rel=1e-12)


def main():
    if not os.path.exists(DUMP):
        fail("no %s: build the tests" % DUMP)
    with tempfile.TemporaryDirectory() as d:
        # Diff: generated runs with known differences, against the reference and by count.
        pa, pb, changed = generated_runs(d)
        ra, rb = ref.read_records(pa), ref.read_records(pb)
        got = dump("diff", pa, pb)
        compare_diff(got, ref.diff(ra, rb), "generated runs")
        all_row = got["layers"][-1]
        check("layer" not in all_row, "the last row is all layers")
        check(got["tokens"]["differ_in_any_layer"] == changed, "known share of tokens differs: %d vs %d" % (got["tokens"]["differ_in_any_layer"], changed))
        check(all_row["only_a_why"]["missing_request"] == 25 * 8, "q4 is missing in B")
        check(all_row["only_a_why"]["different_length"] == 5 * 8, "q1 is 5 tokens shorter in B")
        check(all_row["only_b_why"]["missing_request"] == 10 * 8, "qx is only in B")
        check(got["positions"][4]["aligned"] == (1100 - 1024) * 8, "bucket 1024+")
        # A log against itself: overlap 1, no flips.
        same = dump("diff", pa, pa)
        for row in same["layers"]:
            check(row["overlap"] == 1 and row["exact_agreement"] == 1 and not row["top_flips"], "self diff")
        check(same["tokens"]["differ_in_any_layer"] == 0, "self diff tokens")

        # llama-server logs: aligned by forward pass and row.
        la, lb = server_logs(d)
        compare_diff(dump("diff", la, lb), ref.diff(ref.read_records(la), ref.read_records(lb)), "server logs")

        # Requests, positions, affinity on the generated runs and the planted log.
        compare_requests(dump("requests", pa, 4, 16, 40), ref.requests(ra, [4, 16, 40]), "generated requests")
        compare_positions(dump("positions", pa), ref.positions(ra), "generated positions")
        planted = planted_affinity(d)
        rp = ref.read_records(planted)
        got_aff = dump("affinity", planted, 0.5)
        compare_affinity(got_aff, ref.affinity(rp, 0.5), "planted affinity")
        for p in got_aff["pairs"]:
            check(p["recall"]["2"] > 0.6 > p["static_recall"]["2"], "planted transitions predict: %r" % p)
        compare_affinity(dump("affinity", planted, 0.3), ref.affinity(rp, 0.3), "planted affinity, split 0.3")

        # The Mixtral traces: problem_id and token_idx.
        for name in ("gsm8k_2_routing.jsonl", "humaneval_2_routing.jsonl"):
            path = os.path.join(MIXTRAL, name)
            if not os.path.exists(path):
                print("skipped: no %s" % path)
                continue
            recs = ref.read_records(path)
            compare_requests(dump("requests", path, 4, 6), ref.requests(recs, [4, 6]), name + " requests")
            compare_positions(dump("positions", path), ref.positions(recs), name + " positions")
            compare_affinity(dump("affinity", path, 0.5), ref.affinity(recs, 0.5), name + " affinity")
            self_diff = dump("diff", path, path)
            check(self_diff["tokens"]["aligned"] > 0 and self_diff["tokens"]["differ_in_any_layer"] == 0, name + " self diff")
            # Every token's top-1 replaced by an expert outside its selection.
            copy = os.path.join(d, "replaced.jsonl")
            with open(copy, "w") as f:
                for line in open(path):
                    o = json.loads(line)
                    o["experts"][0] = next(e for e in range(8) if e not in o["experts"])
                    f.write(json.dumps(o) + "\n")
            got = dump("diff", path, copy)
            compare_diff(got, ref.diff(recs, ref.read_records(copy)), name + " top-1 replaced")
            for row in got["layers"]:
                check(row["top1_agreement"] == 0 and row["overlap"] == 0.5 and row["exact_agreement"] == 0, name + " replaced")
                close(row["jaccard"], 1 / 3, name + " replaced jaccard")
            check(got["tokens"]["differ_in_any_layer"] == got["tokens"]["aligned"], name + " replaced tokens")
    print("ok")


if __name__ == "__main__":
    main()
