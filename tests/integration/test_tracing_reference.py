"""`moescope diff`, `requests`, `positions` and `affinity` (the analyses of tracing/, read
through the real CLI) against tracing_reference.py's numpy, on generated logs with known
answers and on the Mixtral traces of ../shared/realdata; their bad inputs (one run, no
request ids, a database) are one line and exit 3; `diff --fail-below` exits 4."""
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import tracing_reference as ref  # noqa: E402
from harness import SOURCE, check, cli, cli_json, ingest  # noqa: E402

MIXTRAL = os.path.join(SOURCE, "..", "shared", "realdata", "mixtral")


def one_line_exit(rc, *args):
    """The command fails with exit `rc` and one line on stderr."""
    p = cli(*args, expect_rc=rc)
    check(p.stderr.count("\n") == 1 and not p.stdout, "%s: one line, exit %d: %r" % (" ".join(args), rc, p.stderr))
    return p.stderr


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
        close(g["chance_overlap"], w["chance_overlap"], where + " chance_overlap")
        close(g["kappa"], w["kappa"], where + " kappa")
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


def compare_positions(got, want, what, left_out=None):
    if left_out is not None:
        check(got["left_out"] == left_out, "%s left out: %r vs %r" % (what, got["left_out"], left_out))
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


def tagged_copy(d, pa, pb):
    """Both runs in one file, run A's records tagged bf16 and run B's fp8."""
    path = os.path.join(d, "both.ndjson")
    with open(path, "w") as f:
        for src, tag in ((pa, "bf16"), (pb, "fp8")):
            for line in open(src):
                o = json.loads(line)
                o["tag"] = tag
                f.write(json.dumps(o) + "\n")
    return path


def bad_inputs(d, pa, pb, la):
    """One line and exit 3 for what cannot be answered; exit 4 below --fail-below."""
    one_line_exit(3, "diff", pa)  # one run only
    one_line_exit(2, "diff", pa, pb, la)  # three runs: a usage error
    one_line_exit(3, "diff", pa, la)  # A names requests, B (a llama-server log) does not
    one_line_exit(3, "diff", pa, "--tag", "bf16", "--vs", "fp8")  # no such tags
    one_line_exit(3, "requests", la)  # no request ids
    no_layers = os.path.join(d, "meta_only.ndjson")
    open(no_layers, "w").write('{"type": "meta", "num_experts": 8, "top_k": 2}\n')
    for cmd in ("positions", "affinity"):
        one_line_exit(3, cmd, no_layers)
    db = ingest(os.path.join(d, "a.db"), [pa], sum(1 for _ in open(pa)))
    # A database keeps no tokens; diff and affinity read what moescoped --diff and
    # --affinity followed live (test_live_tracing.py), which this one did not.
    for cmd, why in (("requests", "does not keep"), ("positions", "does not keep"),
                     ("diff", "--tag A --vs B"), ("affinity", "moescoped --affinity keeps")):
        msg = one_line_exit(3, "--db", db, cmd)
        check(why in msg, "%s on a database says why: %r" % (cmd, msg))
    # --fail-below: exit 4 with the verdict printed when a layer's mean overlap is below it.
    p = cli("diff", pa, pb, "--fail-below", "0.99", "--json", expect_rc=4)
    v = json.loads(p.stdout)["verdict"]
    check(v["passed"] is False and v["fail_below"] == 0.99 and v["min_overlap"] < 0.99, "verdict: %r" % v)
    v = cli_json("diff", pa, pb, "--fail-below", "0.5")["verdict"]
    check(v["passed"] is True, "verdict at 0.5: %r" % v)
    p = cli("diff", pa, pb, "--fail-below", "0.99", expect_rc=4)
    check("FAIL" in p.stdout, "text verdict")
    check(p.stderr.startswith("moescope: --fail-on overlap<0.99: layer "), "one line per crossing: %r" % p.stderr)
    # The other gates: the share of tokens differing anywhere, a layer's top-1 agreement.
    differ = cli_json("diff", pa, pb)["tokens"]
    share = differ["differ_in_any_layer"] / differ["aligned"]
    cli("diff", pa, pb, "--fail-on", "differ>%g" % (share * 0.9), expect_rc=4)
    cli("diff", pa, pb, "--fail-on", "differ>%g" % (share * 1.1), expect_rc=0)
    cli("diff", pa, pa, "--fail-on", "top1<1", "--fail-on", "exact<1", expect_rc=0)
    one_line_exit(2, "diff", pa, pb, "--fail-on", "js>0.1")  # not a metric of diff
    check(cli_json("diff", pa, pb)["verdict"]["passed"] is None, "no --fail-below: no pass/fail")
    # A window too small for A-then-B reading evicts, and says so; nothing is lost.
    # A is read before B: only A's last 1,000 records (all of q5, which B has) still wait.
    small = cli_json("diff", pa, pb, "--diff-window", "1000")["layers"][-1]
    check(small["aligned"] == 1000, "a small window aligns what it holds: %d" % small["aligned"])
    check(small["only_a_why"]["evicted"] == sum(1 for _ in open(pa)) - 1000, "A's pushed out")
    check(small["only_b_why"]["different_length"] == 0, "B's records whose partner was pushed out say so")
    total = sum(1 for _ in open(pa)) + sum(1 for _ in open(pb))
    check(2 * small["aligned"] + small["only_a"] + small["only_b"] == total, "every record counted")
    # The text and CSV forms.
    for cmd, args in (("diff", [pa, pb]), ("requests", [pa, "--capacity", "8"]), ("positions", [pa]),
                      ("affinity", [pa])):
        check(cli(cmd, *args).stdout.strip() != "", cmd + " text")
        check(cli(cmd, *args, "--csv").stdout.count("\n") >= 2, cmd + " CSV")


def main():
    with tempfile.TemporaryDirectory() as d:
        # Diff: generated runs with known differences, against the reference and by count.
        pa, pb, changed = generated_runs(d)
        ra, rb = ref.read_records(pa), ref.read_records(pb)
        got = cli_json("diff", pa, pb)
        compare_diff(got, ref.diff(ra, rb), "generated runs")
        all_row = got["layers"][-1]
        check("layer" not in all_row, "the last row is all layers")
        check(got["tokens"]["differ_in_any_layer"] == changed, "known share of tokens differs: %d vs %d" % (got["tokens"]["differ_in_any_layer"], changed))
        check(all_row["only_a_why"]["missing_request"] == 25 * 8, "q4 is missing in B")
        check(all_row["only_a_why"]["different_length"] == 5 * 8, "q1 is 5 tokens shorter in B")
        check(all_row["only_b_why"]["missing_request"] == 10 * 8, "qx is only in B")
        check(got["positions"][4]["aligned"] == (1100 - 1024) * 8, "bucket 1024+")
        # The same runs as two tags of one input (their phases make tags bf16@prefill, ...).
        both = tagged_copy(d, pa, pb)
        by_tag = cli_json("diff", both, "--tag", "bf16", "--vs", "fp8")
        check(by_tag["layers"] == got["layers"] and by_tag["tokens"] == got["tokens"], "diff of two tags == diff of two files")
        # A log against itself: overlap 1, no flips.
        same = cli_json("diff", pa, pa)
        for row in same["layers"]:
            check(row["overlap"] == 1 and row["exact_agreement"] == 1 and not row["top_flips"], "self diff")
        check(same["tokens"]["differ_in_any_layer"] == 0, "self diff tokens")
        # Damaged lines in A cost only themselves, and the run's heading says how many.
        damaged = os.path.join(d, "damaged.ndjson")
        with open(pa, "rb") as f, open(damaged, "wb") as out:
            for i, line in enumerate(f):
                out.write(line)
                if i % 1000 == 0:
                    out.write(b"\x00\xff binary junk\n{\"layer\": 1, \"experts\": [1,\n")
        junk = 2 * (1 + (sum(1 for _ in open(pa, "rb")) - 1) // 1000)
        hurt = cli_json("diff", damaged, pa)
        check(hurt["runs"]["a"]["rejected_lines"] == junk and hurt["runs"]["b"]["rejected_lines"] == 0,
              "rejected lines per run: %r, want %d" % (hurt["runs"], junk))
        check(hurt["layers"] == same["layers"], "damage costs only the damaged lines")
        heading = cli("diff", damaged, pa).stdout.splitlines()[1]
        check(heading.endswith("%d lines rejected: moescope sources %s)" % (junk, damaged)), heading)

        # llama-server logs: aligned by forward pass and row.
        la, lb = server_logs(d)
        compare_diff(cli_json("diff", la, lb), ref.diff(ref.read_records(la), ref.read_records(lb)), "server logs")
        bad_inputs(d, pa, pb, la)

        # Requests, positions, affinity on the generated runs and the planted log.
        compare_requests(cli_json("requests", pa, "--capacity", "4,16,40"), ref.requests(ra, [4, 16, 40]), "generated requests")
        compare_positions(cli_json("positions", pa), ref.positions(ra), "generated positions",
                          ref.positions_left_out(ra))
        planted = planted_affinity(d)
        rp = ref.read_records(planted)
        got_aff = cli_json("affinity", planted, "--split", "0.5")
        compare_affinity(got_aff, ref.affinity(rp, 0.5), "planted affinity")
        for p in got_aff["pairs"]:
            check(p["recall"]["2"] > 0.6 > p["static_recall"]["2"], "planted transitions predict: %r" % p)
        compare_affinity(cli_json("affinity", planted, "--split", "0.3"), ref.affinity(rp, 0.3), "planted affinity, split 0.3")

        # The Mixtral traces: problem_id and token_idx.
        for name in ("gsm8k_2_routing.jsonl", "humaneval_2_routing.jsonl"):
            path = os.path.join(MIXTRAL, name)
            if not os.path.exists(path):
                print("skipped: no %s" % path)
                continue
            recs = ref.read_records(path)
            compare_requests(cli_json("requests", path, "--capacity", "4,6"), ref.requests(recs, [4, 6]), name + " requests")
            compare_positions(cli_json("positions", path), ref.positions(recs), name + " positions",
                              ref.positions_left_out(recs))
            compare_affinity(cli_json("affinity", path), ref.affinity(recs, 0.5), name + " affinity")
            self_diff = cli_json("diff", path, path)
            check(self_diff["tokens"]["aligned"] > 0 and self_diff["tokens"]["differ_in_any_layer"] == 0, name + " self diff")
            # Every token's top-1 replaced by an expert outside its selection.
            copy = os.path.join(d, "replaced.jsonl")
            with open(copy, "w") as f:
                for line in open(path):
                    o = json.loads(line)
                    o["experts"][0] = next(e for e in range(8) if e not in o["experts"])
                    f.write(json.dumps(o) + "\n")
            got = cli_json("diff", path, copy)
            compare_diff(got, ref.diff(recs, ref.read_records(copy)), name + " top-1 replaced")
            for row in got["layers"]:
                check(row["top1_agreement"] == 0 and row["overlap"] == 0.5 and row["exact_agreement"] == 0, name + " replaced")
                close(row["jaccard"], 1 / 3, name + " replaced jaccard")
            check(got["tokens"]["differ_in_any_layer"] == got["tokens"]["aligned"], name + " replaced tokens")
        # Both traces at once: their problems 0 and 1 are four requests (by dataset), and no
        # token continues from one file into the other.
        both = [os.path.join(MIXTRAL, n) for n in ("gsm8k_2_routing.jsonl", "humaneval_2_routing.jsonl")]
        if all(os.path.exists(p) for p in both):
            recs = ref.read_records(both[0]) + ref.read_records(both[1])
            got = cli_json("requests", *both)
            compare_requests(got, ref.requests(recs, []), "both traces requests")
            check(len({(r["tag"], r["request"]) for r in got["requests"]}) == 4, "four requests")
            alone = [cli_json("affinity", p)["pairs"] for p in both]
            together = cli_json("affinity", *both)["pairs"]
            check([p["tokens"] for p in together] == [a["tokens"] + b["tokens"] for a, b in zip(*alone)],
                  "affinity of both traces pairs each file's tokens only")
            # GSM8K against HumanEval: the same problem ids and token positions, different
            # prompts. Their overlap is what random pairs give, and the verdict says so.
            unrelated = cli_json("diff", *both)
            compare_diff(unrelated, ref.diff(ref.read_records(both[0]), ref.read_records(both[1])),
                         "gsm8k vs humaneval")
            v = unrelated["verdict"]
            check(v["near_chance"] is True and abs(v["kappa"]) < 0.05, "unrelated runs: near chance %r" % v)
            first = cli("diff", *both).stdout.splitlines()[0]
            check(first.startswith("verdict: agreement near chance"), "the verdict leads with it: %r" % first)
            v = cli_json("diff", both[0], both[0])["verdict"]
            check(v["near_chance"] is False and v["kappa"] == 1, "a run against itself: kappa 1 %r" % v)
    print("ok")


if __name__ == "__main__":
    main()
