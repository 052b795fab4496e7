#!/usr/bin/env python3
"""A tag with a handful of tokens does not decide `compare`'s verdict (docs/FIGURES.md "Tag
comparison"). Found by a review: one stray record with another `dataset` took over the
automatic pick (`compare` without --tag: the two tags that differ most) and the headline read
"routes the same ... (JS 0.5379 bits)" for one token against 244. Now:
- the pick skips tags with fewer than 30 tokens and names them (text line, JSON left_out_tags);
- a layer with fewer than 30 tokens on a side is `too_few_tokens`, never `same` or `differs`;
- a --fail-on gate whose metric is undefined everywhere (too few tokens; count-only engine
  totals have no p-value) is refused with exit 2 before anything is printed, and undefined
  readings of a gate that applies are named on stderr."""
import json
import os
import random
import subprocess
import tempfile

from harness import MOESCOPE, SOURCE, check, cli, cli_json, weighted_picks

E, K, LAYERS = 8, 2, 3


def write(path, counts, seed=3):
    """counts: tag -> tokens; tag i leans on experts 2i, 2i+1 (so large tags differ)."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i, (tag, n) in enumerate(counts.items()):
            for t in range(n):
                for layer in range(LAYERS):
                    w = [5.0 if e in (2 * i, 2 * i + 1) else 1.0 for e in range(E)]
                    picks = weighted_picks(rng, w, K)
                    f.write(json.dumps({"layer": layer, "experts": picks, "tag": tag}) + "\n")


def run(*args):
    return subprocess.run([MOESCOPE, *args], capture_output=True, text=True, timeout=120)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "tags.ndjson")
        write(log, {"code": 400, "math": 300, "stray": 1})

        # The automatic pick: code vs math, the stray tag named as left out.
        doc = cli_json("compare", log)
        pair = {(r["tag_a"], r["tag_b"]) for r in doc["compare"]}
        check(pair == {("code", "math")}, "the pick skips the one-token tag: %r" % pair)
        check(doc["left_out_tags"] == [{"tag": "stray", "tokens": 1}], repr(doc["left_out_tags"]))
        check(doc["verdict"]["result"] == "differs", repr(doc["verdict"]))
        text = cli("compare", log).stdout.splitlines()
        check(text[0].startswith("verdict: 'code' vs 'math' differs in 3 of 3 layers"), text[0])
        check(text[1] == "left out of the pick, fewer than 30 tokens: 'stray' (1)", text[1])

        # Asked for explicitly, the one-token tag gets no verdict but "too few tokens".
        doc = cli_json("compare", log, "--tag", "stray", "--vs", "code")
        check({r["verdict"] for r in doc["compare"]} == {"too_few_tokens"}, repr(doc["compare"]))
        check(doc["verdict"]["result"] == "too_few_tokens", repr(doc["verdict"]))
        first = cli("compare", log, "--tag", "stray", "--vs", "code").stdout.splitlines()[0]
        check("has too few tokens to judge (fewer than 30 on a side) in 3 of 3 layers" in first, first)
        # A gate on it cannot apply: refused (exit 2) before any output.
        p = run("compare", log, "--tag", "stray", "--vs", "code", "--fail-on", "js>0.05")
        check(p.returncode == 2 and p.stdout == "", "rc %d, stdout %r" % (p.returncode, p.stdout[:80]))
        check("--fail-on js>0.05: no layer has a defined js" in p.stderr, p.stderr)

        # The rest of 'math' includes the stray token: judged, gate applies, exit 4 on crossing.
        p = run("compare", log, "--tag", "math", "--fail-on", "js>0.05")
        check(p.returncode == 4 and "layer 0: js" in p.stderr, "rc %d: %s" % (p.returncode, p.stderr))

        # Partly undefined: layer 0 has 29 tokens of 'few', the others 31. Layer 0 is named.
        partial = os.path.join(tmp, "partial.ndjson")
        write(partial, {"code": 200, "few": 31})
        lines = open(partial).read().splitlines()
        few0 = [i for i, l in enumerate(lines) if '"tag": "few"' in l and '"layer": 0' in l]
        drop = set(few0[:2])
        with open(partial, "w") as f:
            f.write("".join(l + "\n" for i, l in enumerate(lines) if i not in drop))
        doc = cli_json("compare", partial, "--tag", "few", "--vs", "code")
        verdicts = {r["layer"]: r["verdict"] for r in doc["compare"]}
        check(verdicts[0] == "too_few_tokens" and verdicts[1] == verdicts[2] == "differs", repr(verdicts))
        first = cli("compare", partial, "--tag", "few", "--vs", "code").stdout.splitlines()[0]
        check("differs in 2 of 3 layers (1 with too few tokens); all layers: differs" in first, first)
        p = run("compare", partial, "--tag", "few", "--vs", "code", "--fail-on", "js>0.9")
        check(p.returncode == 0, "rc %d: %s" % (p.returncode, p.stderr))
        check("--fail-on js>0.9: 1 of 4 readings of js undefined" in p.stderr, p.stderr)

        # Count-only engine totals have no p-value: a p gate is refused, a js gate applies.
        sg = os.path.join(SOURCE, "samples", "recorders", "sglang", "expert_distribution.json")
        p = run("compare", sg + "=a", sg + "=b", "--tag", "a", "--vs", "b", "--fail-on", "p<0.01")
        check(p.returncode == 2 and "no layer has a defined p" in p.stderr, "rc %d: %s" % (p.returncode, p.stderr))
        p = run("compare", sg + "=a", sg + "=b", "--tag", "a", "--vs", "b", "--fail-on", "js>0.01")
        check(p.returncode == 0, "rc %d: %s" % (p.returncode, p.stderr))
    print("ok: a one-token tag is left out of compare's pick and judged too_few_tokens; gates "
          "that cannot apply are refused")


if __name__ == "__main__":
    main()
