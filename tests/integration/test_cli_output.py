#!/usr/bin/env python3
"""What people read and paste (issue 12): the summary screen, layers --brief within 100
columns, the experts table's units, one exit code (3) and one stderr line naming what exists
for a selection with nothing in it, messages that name the option or the valid commands,
-=TAG, the matrix export, CSV rows with tag and layer, report --html and symlinks."""
import csv
import io
import json
import os
import subprocess
import tempfile

from harness import MOESCOPE, check, cli

REAL = "/work/shared/realdata/mixtral"
GSM = os.path.join(REAL, "gsm8k_2_routing.jsonl")
HUMANEVAL = os.path.join(REAL, "humaneval_2_routing.jsonl")


def fails(rc, *args, stdin=None):
    p = subprocess.run([MOESCOPE, *args], capture_output=True, text=True, timeout=120, input=stdin)
    check(p.returncode == rc, "moescope %s: wanted exit %d, got %d: %s" % (args, rc, p.returncode, p.stderr))
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1, "one stderr line: %r" % p.stderr)
    return lines[0]


def write_log(path, layers, experts, tokens):
    with open(path, "w") as f:
        for t in range(tokens):
            for l in range(layers):
                a = (t * 7 + l) % experts
                f.write(json.dumps({"layer": l, "experts": [a, (a + 1 + l % 3) % experts]}) + "\n")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "m.log")
        write_log(log, 12, 64, 200)

        # Summary: one screen, at most 100 columns, JSON agrees with the hits.
        text = cli("summary", GSM).stdout
        check(all(len(l) <= 100 for l in text.splitlines()), "summary fits 100 columns:\n" + text)
        check(len(text.splitlines()) <= 20, "summary is one screen")
        for label in ("most balanced", "least balanced", "dead experts", "hot", "warning"):
            check(label in text, "summary has %r:\n%s" % (label, text))
        doc = json.loads(cli("summary", GSM, "--json").stdout)["summary"]
        layers = json.loads(cli("layers", GSM, "--json").stdout)["layers"]
        ginis = sorted((l["gini"], l["layer"]) for l in layers)
        check(doc["most_balanced"][0]["layer"] == ginis[0][1], "most balanced = lowest Gini")
        check(doc["least_balanced"][0]["layer"] == ginis[-1][1], "least balanced = highest Gini")
        dead = sum(1 for l in layers for e in l["experts"] if e["hits"] == 0)
        check(len(doc["dead"]) == dead, "dead experts counted: %d vs %d" % (len(doc["dead"]), dead))
        hot = sum(1 for l in layers for e in l["experts"] if e["hits"] >= 2 * l["mean"])
        check(len(doc["hot"]) == hot, "hot experts counted: %d vs %d" % (len(doc["hot"]), hot))
        check(cli("analyze", GSM).stdout.startswith("Summary (tag 'all')"), "analyze starts with the summary")

        # layers --brief: 100 columns, human headers, numbers right-aligned.
        brief = cli("layers", "--brief", log).stdout.splitlines()
        check(max(len(l) for l in brief) <= 100, "layers --brief fits 100 columns")
        check("Gini" in brief[0] and "gini" not in brief[0], "human headers: " + brief[0])

        # experts: one unit per column, in the header.
        head = cli("experts", GSM).stdout.splitlines()
        header = next(l for l in head if l.startswith("rank"))
        check("share %" in header and "EMA %" in header, "units in the header: " + header)
        check(not any("%" in l for l in head[head.index(header) + 1:]), "no unit inside the cells")

        # Nothing to show: exit 3, one line naming what exists.
        check("layers 0 to 31" in fails(3, "experts", "--layer", "40", GSM), "names the layers")
        check("known: all, gsm8k" in fails(3, "layers", "--tag", "nope", GSM), "names the tags")
        fails(3, "gates", "--layer", "7", GSM)
        check("layers 0 to 11" in fails(3, "report", "--html", os.path.join(tmp, "r.html"), "--cooc-layer", "40", log),
              "report --cooc-layer names the layers")
        check("one" in fails(3, "compare", GSM), "compare with one tag says so")
        pair = cli("compare", GSM, HUMANEVAL).stdout
        check("'gsm8k' vs 'humaneval'" in pair or "'humaneval' vs 'gsm8k'" in pair, "compare picks the two tags")

        # Messages.
        msg = fails(2, "bogus")
        check("unknown command 'bogus'" in msg and "layers" in msg and "summary" in msg, msg)
        check("--layer" in fails(2, "layers", "--layer", "abc", log), "the option is named")
        check("-30m" in fails(2, "layers", "--since", "yesterday", log), "accepted forms listed")
        fails(2, "layers", "--since", "2026-02-30", log)
        fails(2, "layers", "--since", "", log)
        with open(GSM) as f:  # without their own tag field, so that -=TAG names them
            head50 = "".join(json.dumps({k: v for k, v in json.loads(l).items() if k != "dataset"}) + "\n"
                             for l in f.readlines()[:50])
        tags = subprocess.run([MOESCOPE, "tags", "-=stdin_tag", "--json"], input=head50, capture_output=True,
                              text=True, timeout=60)
        check(tags.returncode == 0 and "stdin_tag" in tags.stdout, "-=TAG reads stdin: %r" % tags.stderr)

        # matrix: long form sums to the hits; wide form one row per layer.
        rows = list(csv.DictReader(io.StringIO(cli("matrix", log, "--csv").stdout)))
        check(len(rows) == 12 * 64, "long form: one row per (layer, expert)")
        check(sum(int(r["hits"]) for r in rows) == 12 * 200 * 2, "long form hits add up")
        check(all(r["tag"] == "all" for r in rows), "tag on every row")
        wide = list(csv.reader(io.StringIO(cli("matrix", log, "--csv", "--wide", "--layer", "3").stdout)))
        check(len(wide) == 2 and len(wide[0]) == 3 + 64 and wide[1][1] == "3" and wide[1][2] == "layer",
              "wide form, --layer honoured")

        # CSV: tag and layer on every row, fractions, empty nulls.
        for cmd in (["layers"], ["experts", "--layer", "2"], ["corr"], ["cooc", "--layer", "1"]):
            table = list(csv.DictReader(io.StringIO(cli(*cmd, log, "--csv").stdout)))
            check(table and "tag" in table[0] and "layer" in table[0], "%s CSV has tag and layer" % cmd)
            check(not any(v in ("-", "nan") for r in table for v in r.values()), "%s: nulls are empty" % cmd)
        ex = list(csv.DictReader(io.StringIO(cli("experts", log, "--csv").stdout)))
        check(all(0 <= float(r["share"]) <= 1 for r in ex), "experts CSV shares are fractions")

        # A timed log: a window with nothing in it is exit 3 naming the span; timeline CSV
        # shares are fractions with tag and layer.
        timed = os.path.join(tmp, "timed.log")
        with open(timed, "w") as f:
            for t in range(120):
                f.write(json.dumps({"layer": t % 3, "experts": [t % 8, (t + 3) % 8], "ts": 1_700_000_000 + t * 30}) + "\n")
        msg = fails(3, "layers", "--since", "2030-01-01", timed)
        check("2023-11-14" in msg, "the window message names the span of timed records: " + msg)
        tl = list(csv.DictReader(io.StringIO(cli("timeline", timed, "--csv", "--layer", "1").stdout)))
        check(tl and all(r["tag"] == "all" and r["layer"] == "1" for r in tl), "timeline CSV tag and layer")
        check(all(0 < float(r["top_share"]) <= 1 and "%" not in r["top_share"] for r in tl), "timeline shares are fractions")

        # report --html replaces a symlink instead of writing through it.
        target, link = os.path.join(tmp, "target"), os.path.join(tmp, "out.html")
        with open(target, "w") as f:
            f.write("keep")
        os.symlink(target, link)
        cli("report", "--html", link, log)
        check(open(target).read() == "keep", "the symlink's target is untouched")
        check(not os.path.islink(link) and "<html" in open(link).read(), "the report replaced the link")
    print("ok: summary, brief table, units, no-data exits, messages, matrix, CSV, report path")


if __name__ == "__main__":
    main()
