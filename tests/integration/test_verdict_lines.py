#!/usr/bin/env python3
"""A verdict first (issue 31): the text output of `compare`, `drift`, `kde` and `diff`
starts with one line "verdict: ...", and their JSON carries a `verdict`; what the line says
agrees with the per-layer figures of the same command's JSON (counted here)."""
import json
import math
import os
import random
import re
import tempfile

from harness import SOURCE, check, cli, cli_json

GSM = os.path.join(SOURCE, "samples", "realdata", "mixtral", "gsm8k_2_routing.jsonl")
HUMANEVAL = os.path.join(SOURCE, "samples", "realdata", "mixtral", "humaneval_2_routing.jsonl")
LLAMA = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")


def first_line(*args, rc=0):
    out = cli(*args, expect_rc=rc).stdout
    line = out.splitlines()[0]
    check(line.startswith("verdict: ") and len(line) <= 100, "moescope %s: first line %r" % (" ".join(args), line))
    return line


def layers_said(line):
    m = re.search(r" in (\d+) of (\d+) layers?", line)
    check(m is not None, "the verdict counts layers: %r" % line)
    return int(m.group(1)), int(m.group(2))


def compare():
    line = first_line("compare", GSM, HUMANEVAL, "--tag", "gsm8k", "--vs", "humaneval")
    doc = cli_json("compare", GSM, HUMANEVAL, "--tag", "gsm8k", "--vs", "humaneval")
    per = [l for l in doc["compare"] if l["layer"] is not None]
    differ = sum(l["verdict"] == "differs" for l in per)
    n, of = layers_said(line)
    check(of == len(per) and n == (differ if differ else len(per)), "compare: %r vs %d of %d" % (line, differ, len(per)))
    check(doc["verdict"]["result"] == ("differs" if differ else "same") and doc["verdict"]["text"] == line,
          "compare JSON verdict: %r" % doc["verdict"])
    same = first_line("compare", LLAMA + "=a", LLAMA + "=b", "--tag", "a", "--vs", "b")
    check("routes the same" in same and "differs" not in same.split(";")[0], "identical inputs: %r" % same)


def drift(tmp):
    rnd = random.Random(2)
    log = os.path.join(tmp, "timed.ndjson")
    with open(log, "w") as f:
        for t in range(2400):
            for l in range(3):
                tag = "base" if t < 1200 else "new"
                ids = rnd.sample(range(8), 2) if (tag == "base" or l != 1) else [0, rnd.randrange(1, 8)]
                f.write(json.dumps({"layer": l, "experts": ids, "tag": tag, "ts": 1_700_000_000 + t}) + "\n")
    args = ("drift", log, "--baseline", "base", "--tag", "new", "--window", "10m")
    line = first_line(*args)
    doc = cli_json(*args)
    per = [l for l in doc["drift"]["layers"] if l["layer"] is not None]
    drifted = sum(l["verdict"] == "drifted" for l in per)
    check(drifted == 1, "layer 1 drifted only: %r" % [(l["layer"], l["verdict"]) for l in per])
    check(layers_said(line) == (1, 3) and line.startswith("verdict: drifted"), "drift: %r" % line)
    check(doc["verdict"] == {"result": "drifted", "text": line}, "drift JSON verdict: %r" % doc["verdict"])


def kde():
    args = ("kde", GSM, HUMANEVAL, "--fit", "gsm8k", "--test", "humaneval")
    line = first_line(*args)
    doc = cli_json(*args)
    per = [l for l in doc["kde"]["layers"] if l["n_test"] > 0]
    differ = sum(l["ks_distance"] > 1.628 / math.sqrt(l["n_test"]) for l in per)
    n, of = layers_said(line)
    check(of == len(per) and n == (differ if differ else len(per)), "kde: %r vs %d of %d" % (line, differ, len(per)))
    worst = max(per, key=lambda l: l["ks_distance"])
    check("max KS %.4f, layer %d" % (worst["ks_distance"], worst["layer"]) in line, "kde names the worst layer")
    check(doc["verdict"]["text"] == line and doc["verdict"]["result"] == ("differs" if differ else "same"), "kde JSON")
    same = first_line("kde", GSM, "--fit", "gsm8k", "--test", "gsm8k")
    check("matches" in same, "a tag against its own fit matches: %r" % same)


def diff(tmp):
    """The llama-server sample against a copy whose every 4th row routes elsewhere."""
    b = os.path.join(tmp, "b.log")
    with open(LLAMA) as f, open(b, "w") as out:
        for i, line in enumerate(f):
            if i % 4 == 0 and re.match(r"^\d+,", line):
                layer = line.split(",")[0]
                line = "%s,0 1 2 3\n" % layer
            out.write(line)
    line = first_line("diff", LLAMA, b)
    doc = cli_json("diff", LLAMA, b)
    per = [l for l in doc["layers"] if "layer" in l]
    low = min(per, key=lambda l: l["overlap"])
    check(line.startswith("verdict: lowest mean overlap %.4f (layer %d)" % (low["overlap"], low["layer"])),
          "diff: %r vs %r" % (line, low))
    check(doc["verdict"]["min_overlap"] == low["overlap"], "diff JSON verdict")
    # Below --fail-below: still the first line, and says FAIL.
    check(first_line("diff", LLAMA, b, "--fail-below", "0.99", rc=4).endswith("FAIL"), "FAIL first")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        compare()
        drift(tmp)
        kde()
        diff(tmp)
    print("ok: compare, drift, kde and diff open with their verdict")


if __name__ == "__main__":
    main()
