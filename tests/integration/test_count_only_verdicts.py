#!/usr/bin/env python3
"""Issue 28: engine totals (SGLang's published DeepSeek-V3 counts, count-only) say what they
are: tokens and k unknown (null, "-", never a number they are not), no EMA, no token
fractions in prune; compare judges by the effect size (JS against --min-js) instead of
p-values and intervals that treat billions of correlated selections as independent draws."""
import json
import os
import tempfile

import numpy as np

from harness import SOURCE, check, cli, cli_json

SGLANG = os.path.join(SOURCE, "samples", "realdata", "sglang", "deepseek_v3_prefill_in512.json")


def js_bits(a, b):
    p, q = a / a.sum(), b / b.sum()
    m = (p + q) / 2
    kl = lambda x: float(np.sum(x[x > 0] * np.log2(x[x > 0] / m[x > 0])))
    return (kl(p) + kl(q)) / 2


def main():
    counts = np.array(json.load(open(SGLANG))["logical_count"], dtype=np.int64)
    layers = cli_json("layers", SGLANG)["layers"]
    l3 = [l for l in layers if l["tag"] == "all" and l["layer"] == 3][0]
    check(l3["tokens"] is None and l3["top_k"] is None and l3["selections"] == int(counts[3].sum()),
          "tokens and k unknown, selections exact: %r" % {k: l3[k] for k in ("tokens", "top_k", "selections")})
    check(all(e["ema"] is None and e["ema_corrected"] is None for e in l3["experts"]), "no EMA")
    brief = cli("layers", "--brief", SGLANG).stdout.splitlines()
    row = [r for r in brief if r.split()[:1] == ["3"]][0].split()
    check(row[1:3] == ["-", "-"], "layers --brief shows tokens and k as '-': %r" % row)
    # A bad count costs its layer only, and the sample says which layer, expert and value (it
    # showed the document's first 160 bytes).
    with tempfile.TemporaryDirectory() as tmp:
        bad = json.load(open(SGLANG))
        bad["logical_count"][10][5], bad["logical_count"][11][7] = -3, 0.5
        path = os.path.join(tmp, "bad.json")
        json.dump(bad, open(path, "w"))
        src = cli_json("sources", path)["sources"][0]
        samples = src["rejects"]["malformed"]["samples"]
        check(samples == ["totals of layer 10 for experts 0-255: expert 5 has -3 (negative)",
                          "totals of layer 11 for experts 0-255: expert 7 has 0.5 (not a whole count)"],
              "reject samples: %r" % samples)
        check(len(cli_json("layers", path)["layers"]) == len(layers) - 2, "two layers cost, the rest stand")
    # Time windows: engine totals have no time, and the refusal says that (on a database it
    # advised "moescoped --analytics full keeps it", which no option makes true).
    for args, rc in ((["layers", "--since", "-1h", SGLANG], 2), (["drift", "--baseline", "all", SGLANG], 3)):
        p = cli(*args, expect_rc=rc)
        check("engine totals (count-only data) have no time" in p.stderr and "analytics full" not in p.stderr,
              "%s: %s" % (args[0], p.stderr))
    # A dump without a final newline is read whole: sources says so (it said offset 0).
    src = cli_json("sources", SGLANG)["sources"][0]
    check(src["offset"] == src["file_size"] == os.path.getsize(SGLANG) and src["lag_bytes"] == 0,
          "the dump read to its end: %r" % {k: src[k] for k in ("offset", "file_size", "lag_bytes")})
    # The full text too (it printed "Tokens: 67108864 (top-0)": the selections, a k of 0).
    for cmd in ("layers", "analyze"):
        lines = [l for l in cli(cmd, SGLANG).stdout.splitlines() if l.strip().startswith("Tokens:")]
        check(lines and all(l.strip().startswith("Tokens: - ") for l in lines) and
              not any("top-0" in l for l in lines), "%s text: %r" % (cmd, lines[:2]))
    s = cli_json("summary", SGLANG)["summary"]
    check(s["tokens"] is None and s["top_k"] is None and s["count_only"], "summary: %r" % s["tokens"])
    stated = [l for l in cli_json("layers", SGLANG, "--top-k", "8")["layers"] if l["layer"] == 3][0]
    check(stated["top_k"] == 8 and stated["tokens"] == int(counts[3].sum()) // 8, "with --top-k 8")

    prune = cli_json("prune", SGLANG, "--keep", "128")["overall"]
    check(prune["tokens"] is None and prune["tokens_any_dropped"] is None and prune["tokens_all_dropped"] is None,
          "prune: token fractions unknown, not 0: %r" % prune)
    # The heading says why: engine totals count no tokens; a database of per-token records
    # (top-4: no exact co-occurrence fractions) needs the FILE arguments instead.
    head = " ".join(cli("prune", SGLANG, "--keep", "128").stdout.split("\n  layer")[0].split())
    check("token fractions unknown (engine totals count no tokens)" in head, head)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "llama.db")
        cli("import", os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log"), "--db", db)
        head = " ".join(cli("--db", db, "prune", "--keep", "4").stdout.split("\n  layer")[0].split())
        check("token fractions need FILE arguments" in head and "engine totals" not in head, head)
    kept = np.sort(counts[3:], axis=1)[:, ::-1][:, :128].sum()
    check(abs(prune["dropped_selection_share"] - (1 - kept / counts[3:].sum())) < 1e-12,
          "prune: the dropped selection share is exact")

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(28)
        for name, spread in (("small", 0.1), ("large", 0.9)):
            b = (counts * rng.uniform(1 - spread, 1 + spread, counts.shape)).astype(np.int64)
            path = os.path.join(tmp, name + ".json")
            json.dump({"logical_count": b.tolist()}, open(path, "w"))
            doc = cli_json("compare", SGLANG + "=a", path + "=b", "--tag", "a", "--vs", "b", "--layer", "3")
            c = doc["compare"][0]
            want = js_bits(counts[3].astype(float), b[3].astype(float))
            check(abs(c["js_divergence_bits"] - want) < 1e-12, "%s: JS %r vs numpy %r" % (name, c["js_divergence_bits"], want))
            check(not c["sampled"] and c["chi2_p_value"] is None and c["js_noise_floor"] is None
                  and c["tokens_a"] is None and all(e["share_a_ci"] is None for e in c["experts"]),
                  "%s: no p-value, noise floor, interval or tokens: %r" % (name, {k: c[k] for k in c if k != "experts"}))
            check(c["verdict"] == ("differs" if want >= 0.005 else "same"), "%s: verdict %s at JS %.4f"
                  % (name, c["verdict"], want))
            lower = cli_json("compare", SGLANG + "=a", path + "=b", "--tag", "a", "--vs", "b", "--layer", "3",
                             "--min-js", "%.6f" % (want / 2))["compare"][0]
            check(lower["verdict"] == "differs", "%s: --min-js below the JS: differs" % name)
            text = cli("compare", SGLANG + "=a", path + "=b", "--tag", "a", "--vs", "b", "--layer", "3").stdout
            check("95% CI" not in text and "not independent draws" in text, "%s: text says why:\n%s" % (name, text))
            print("  %s perturbation: JS %.4f bits, verdict %s" % (name, want, c["verdict"]))
    print("ok: engine totals: tokens and k unknown, no EMA or token fractions, compare by effect size")


if __name__ == "__main__":
    main()
