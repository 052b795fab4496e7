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

from harness import check, cli, cli_json, report_data

E, K, LAYERS = 16, 2, 4


def tagged_log(path, tags, n=1500, seed=7):
    """NDJSON records of `tags`; tag i leans on experts 2i and 2i+1 at every layer."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for t in range(n):
            i = t % len(tags)
            for layer in range(LAYERS):
                weights = [4.0 if e in (2 * i, 2 * i + 1) else 1.0 for e in range(E)]
                picks = []
                while len(picks) < K:
                    e = rng.choices(range(E), weights)[0]
                    if e not in picks:
                        picks.append(e)
                f.write(json.dumps({"layer": layer, "experts": picks, "tag": tags[i]}) + "\n")


def close(a, b, what):
    if a is None or b is None:
        check(a is None and b is None, "%s: %r vs %r" % (what, a, b))
    else:
        check(abs(a - b) <= 1e-6 * max(1.0, abs(b)), "%s: report %r, compare %r" % (what, a, b))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "tags.ndjson")
        tagged_log(log, ["code", "math", "chat"])
        page = os.path.join(tmp, "r.html")
        cli("report", "--html", page, log)
        data = report_data(page)
        check(sorted(c["tag_a"] for c in data["compare"]) == ["chat", "code", "math"], data["compare"])
        for c in data["compare"]:
            check(c["tag_b"] == "rest", "compared with the rest, not all: %r" % c["tag_b"])
            ref = cli_json("compare", log, "--tag", c["tag_a"], "--top", "5")["compare"]
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
                for t, e in zip(mine["top"], theirs["experts"]):
                    close(t[1], e["share_a"], where + " share_a")
                    close(t[2], e["share_b"], where + " share_b")
        # Planted: each tag leans on its own experts, so every layer differs.
        check(all(l["verdict"] == "differs" for c in data["compare"] for l in c["layers"]), "verdicts")

        one = os.path.join(tmp, "one.ndjson")
        tagged_log(one, ["chat"], n=300)
        cli("report", "--html", page, one)
        check(report_data(page)["compare"] == [], "one tag: no comparison with itself")
        print("ok: the report's tag comparison equals compare --tag for 3 tags x %d layers; one tag "
              "compares nothing" % (LAYERS + 1))


if __name__ == "__main__":
    main()
