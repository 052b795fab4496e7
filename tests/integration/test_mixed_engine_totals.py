#!/usr/bin/env python3
"""Engine totals beside per-token records in one tag ("mixed", docs/FIGURES.md "Count-only
data"). Found by a review: `summary routed.ndjson sglang.json` read "1352 routing records"
(152 records plus one pseudo-token per engine selection), prune's token fractions were
diluted nine times, cooc's lift used the inflated token count and compare ran chi-square
tests on engine selections. Now a mixed tag's tokens are unknown (null, "-"), per-token
commands refuse it (exit 3) and name the fix, prune gives no token fractions where totals
are, compare gives no p-values where a side holds totals, and the summary says what it
mixed. And on /metrics, a layer without a token count has no moescope_layer_tokens_total
series (it exported the selections as tokens)."""
import os
import re
import subprocess
import tempfile

from harness import MOESCOPE, SOURCE, Daemon, check, cli, cli_json, free_port, scrape

REC = os.path.join(SOURCE, "samples", "recorders")
ROUTED = os.path.join(REC, "routed", "routed_experts.ndjson")
TOTALS = os.path.join(REC, "sglang", "expert_distribution.json")
BOTH = [ROUTED, TOTALS]


def main():
    s = cli_json("summary", *BOTH)["summary"]
    alone = cli_json("summary", ROUTED)["summary"]
    totals = cli_json("summary", TOTALS)["summary"]
    check(s["tokens"] is None and s["selections"] == alone["selections"] + totals["selections"],
          "mixed: tokens unknown, selections add up: %r" % {k: s[k] for k in ("tokens", "selections")})
    head = cli("summary", *BOTH).stdout.splitlines()[0]
    check("%d selections, %d of them engine totals (mixed: tokens unknown)" % (s["selections"], totals["selections"])
          in head, head)
    q = {f["code"]: f for f in cli_json("summary", *BOTH)["quality"]["checks"]}
    check(q["count_only"]["found"], "the count-only check finds the totals: %r" % q["count_only"])
    text = cli("summary", *BOTH).stdout
    check("engine totals mixed with per-token records (%d of %d selections)" % (totals["selections"], s["selections"])
          in " ".join(text.split()), text)

    # Per-token commands refuse a mixed tag and say how to split it.
    p = subprocess.run([MOESCOPE, "cooc", *BOTH], capture_output=True, text=True)
    check(p.returncode == 3 and "beside per-token records (mixed)" in p.stderr and "FILE=TAG" in p.stderr,
          "cooc: rc %d %s" % (p.returncode, p.stderr))
    check(subprocess.run([MOESCOPE, "cooc", ROUTED + "=rec", TOTALS + "=eng", "--tag", "rec"],
                         capture_output=True).returncode == 0, "tagged apart, the records' cooc works")

    # prune: token fractions only on layers without totals, equal to the records alone there.
    mixed = {l["layer"]: l for l in cli_json("prune", "--keep", "4", *BOTH)["layers"]}
    total_layers = {l["layer"] for l in cli_json("layers", TOTALS)["layers"] if l["layer"] is not None}
    check(total_layers and set(mixed) - total_layers, "some layers have records only: %r" % sorted(total_layers))
    for layer, l in mixed.items():
        if layer in total_layers:
            check(l["tokens"] is None and l["tokens_any_dropped"] is None and l["tokens_all_dropped"] is None,
                  "layer %d holds totals: no token fractions: %r" % (layer, l))
        else:
            check(l["tokens"] is not None and l["tokens_any_dropped"] is not None, "layer %d: %r" % (layer, l))

    # compare: where the rest holds engine totals, no sampling figures.
    rows = {r["layer"]: r for r in cli_json("compare", "--tag", "prefill", *BOTH)["compare"]}
    for layer, r in rows.items():
        if layer in total_layers:
            check(not r["sampled"] and r["chi2_p_value"] is None and r["tokens_b"] is None and r["tokens_a"] is not None,
                  "layer %d: %r" % (layer, {k: r[k] for k in ("sampled", "chi2_p_value", "tokens_a", "tokens_b")}))

    # /metrics: engine totals without k have no token series; their hits are there.
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "m.db")
        cli("import", TOTALS, "--db", db, "--tag", "engine")
        cli("import", ROUTED, "--db", db)  # its records carry their own tags: prefill, decode
        port = free_port()
        with Daemon("--db", db, "--metrics", "127.0.0.1:%d" % port, "--listen", "tcp://127.0.0.1:%d" % free_port()) as d:
            d.wait_ready()
            text = scrape(port)
            d.stop()
    tokens = {(m[0], m[1]) for m in re.findall(r'^moescope_layer_tokens_total\{tag="([^"]+)",layer="([^"]+)"\}', text, re.M)}
    hits = {(m[0], m[1]) for m in re.findall(r'^moescope_expert_hits_total\{tag="([^"]+)",layer="([^"]+)"', text, re.M)}
    check(("prefill", "0") in tokens and not any(t == "engine" for t, _ in tokens),
          "tokens of the records only: %r" % sorted(tokens))
    check(any(t == "engine" for t, _ in hits), "the engine's hits are exported")
    check(not any(t == "all" and (t, l) in tokens for t, l in hits if l in {str(x) for x in total_layers}),
          "tag all's layers with totals have no token series")
    print("ok: a tag mixing engine totals with records has no token count; per-token figures refuse or "
          "skip it; /metrics exports no tokens it does not know")


if __name__ == "__main__":
    main()
