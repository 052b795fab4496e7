#!/usr/bin/env python3
"""The HTML report's tag comparison is the `compare` command's (issue 31 item 3): for each tag,
the report embeds the figures `moescope compare --tag TAG` prints against the rest (JS
divergence, noise floor, chi-square p, verdict, the experts whose share differs most), not a
comparison with `all` computed apart. A file with one tag has nothing to compare: the report
shows no comparison (it used to show 'chat' against 'all', the same records, JS 0)."""
import json
import os
import random
import tempfile

from harness import SOURCE, check, cli, cli_json, report_data, weighted_picks

E, K, LAYERS = 16, 2, 4
MIXTRAL = os.path.join(SOURCE, "samples", "realdata", "mixtral")


def tagged_log(path, tags, n=1500, seed=7):
    """NDJSON records of `tags`; tag i leans on experts 2i and 2i+1 at every layer."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for t in range(n):
            i = t % len(tags)
            for layer in range(LAYERS):
                weights = [4.0 if e in (2 * i, 2 * i + 1) else 1.0 for e in range(E)]
                picks = weighted_picks(rng, weights, K)
                f.write(json.dumps({"layer": layer, "experts": picks, "tag": tags[i]}) + "\n")


def close(a, b, what):
    if a is None or b is None:
        check(a is None and b is None, "%s: %r vs %r" % (what, a, b))
    else:
        check(abs(a - b) <= 1e-6 * max(1.0, abs(b)), "%s: report %r, compare %r" % (what, a, b))


def check_against_compare(data, files):
    """Every tag's verdict line, figures and lean in the report are compare --tag's. Returns
    how many layers' most-different expert is one the tag uses less (lean != top[0])."""
    differ_first = 0
    for c in data["compare"]:
        check(c["tag_b"] == "rest", "compared with the rest, not all: %r" % c["tag_b"])
        full = cli_json("compare", *files, "--tag", c["tag_a"], "--top", "5")
        ref = full["compare"]
        # The headline per tag is compare's verdict line (how many layers differ), and the
        # expert a layer leans on is compare's (the first listed with a higher share in the
        # tag: the report once named the first listed, often one the tag uses less).
        check(c["verdict"] == full["verdict"]["text"], "%r vs %r" % (c["verdict"], full["verdict"]["text"]))
        check(len(ref) == len(c["layers"]), "layers of %s" % c["tag_a"])
        for mine, theirs in zip(c["layers"], ref):
            where = "%s layer %s" % (c["tag_a"], theirs["layer"])
            check(mine["layer"] == (-1 if theirs["layer"] is None else theirs["layer"]), where)
            close(mine["js_divergence_bits"], theirs["js_divergence_bits"], where + " JS")
            close(mine["js_noise_floor"], theirs["js_noise_floor"], where + " noise floor")
            close(mine["chi2_p_value"], theirs["chi2_p_value"], where + " chi2 p")
            check(mine["verdict"] == theirs["verdict"], where + " verdict")
            check([t[0] for t in mine["top"]] == [e["expert"] for e in theirs["experts"]],
                  where + " experts")
            lean = next(([e["expert"], e["share_a"], e["share_b"]] for e in theirs["experts"]
                         if e["diff"] > 0), None)
            check((mine["leans"] is None) == (lean is None), where + " leans %r vs %r" % (mine["leans"], lean))
            if lean:
                check(mine["leans"][0] == lean[0], where + " leans on %r vs %r" % (mine["leans"], lean))
                close(mine["leans"][1], lean[1], where + " leans share_a")
                close(mine["leans"][2], lean[2], where + " leans share_b")
                differ_first += lean[0] != mine["top"][0][0]
            for t, e in zip(mine["top"], theirs["experts"]):
                close(t[1], e["share_a"], where + " share_a")
                close(t[2], e["share_b"], where + " share_b")
    return differ_first


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "tags.ndjson")
        tagged_log(log, ["code", "math", "chat"])
        page = os.path.join(tmp, "r.html")
        cli("report", "--html", page, log)
        data = report_data(page)
        check(sorted(c["tag_a"] for c in data["compare"]) == ["chat", "code", "math"], data["compare"])
        check_against_compare(data, [log])
        # Planted: each tag leans on its own experts, so every layer differs.
        check(all(l["verdict"] == "differs" for c in data["compare"] for l in c["layers"]), "verdicts")

        one = os.path.join(tmp, "one.ndjson")
        tagged_log(one, ["chat"], n=300)
        cli("report", "--html", page, one)
        check(report_data(page)["compare"] == [], "one tag: no comparison with itself")
        # The Mixtral traces: layers whose most-different expert is one the tag uses less
        # (gsm8k layer 15: expert 2, 9.76 % against 20.77 %) lean on another one.
        real = [os.path.join(MIXTRAL, n) for n in ("gsm8k_2_routing.jsonl", "humaneval_2_routing.jsonl")]
        if all(os.path.exists(p) for p in real):
            cli("report", "--html", page, *real)
            n = check_against_compare(report_data(page), real)
            check(n > 0, "the Mixtral traces have layers whose first-listed expert is not the lean")
        print("ok: the report's tag comparison equals compare --tag for 3 tags x %d layers; one tag "
              "compares nothing" % (LAYERS + 1))


if __name__ == "__main__":
    main()
