#!/usr/bin/env python3
"""`moescope report --html OUT A B` (issue 30 item 1): two FILE arguments get a "Routing diff"
section whose figures are those of `moescope diff A B --json` (the embedded data key by key,
and the table cells Chromium renders to 4 decimals); one input, or a database, says how to
get one."""
import json
import os
import re
import shutil
import tempfile

from harness import check, cli, cli_json, report_data
from test_report_browser import chromium
from test_tracing_reference import server_logs  # two llama-server logs of the same passes

KEYS = ("aligned", "top1_agreement", "overlap", "exact_agreement", "jaccard", "weight_mass_overlap",
        "chance_overlap", "kappa")


def same(got, want, what):
    for k in KEYS:
        g, w = got[k], want[k]
        check(g == w or (g is None and w is None), "%s %s: report %r, diff %r" % (what, k, g, w))
    check(got["only_a"] == want["only_a"] and got["only_b"] == want["only_b"], "%s only_a/only_b" % what)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = server_logs(tmp)
        page = os.path.join(tmp, "diff.html")
        cli("report", "--html", page, pa, pb)
        R = report_data(page)["routing_diff"]
        want = cli_json("diff", pa, pb)
        layers = [l for l in want["layers"] if "layer" in l]
        check(len(R["layers"]) == len(layers) == 6, "a row per layer")
        for got, w in zip(R["layers"], layers):
            check(got["layer"] == w["layer"], "layer order")
            same(got, w, "layer %d" % w["layer"])
        same(R["all"], [l for l in want["layers"] if "layer" not in l][0], "all layers")
        check(R["tokens"]["aligned"] == want["tokens"]["aligned"] and
              R["tokens"]["differ_in_any_layer"] == want["tokens"]["differ_in_any_layer"], "tokens")
        check(R["min_overlap"] == want["verdict"]["min_overlap"] and
              R["min_overlap_layer"] == want["verdict"]["min_overlap_layer"], "lowest overlap")
        check(R["records_a"] == want["runs"]["a"]["records"] and R["records_b"] == want["runs"]["b"]["records"],
              "records per run")
        check(0 < want["verdict"]["min_overlap"] < 1, "the runs differ somewhat")

        # One input: no section data, a note instead.
        single = os.path.join(tmp, "one.html")
        cli("report", "--html", single, pa)
        check("routing_diff" not in report_data(single), "one input: no routing diff")

        if not shutil.which("chromium"):
            print("SKIP (browser part): chromium is not installed")
            return
        for p, name in ((page, "two"), (single, "one")):
            dom = chromium("--virtual-time-budget=10000", "--dump-dom", "file://" + p, user_dir=os.path.join(tmp, name))
            check(dom.returncode == 0, "chromium: %s" % dom.stderr[-2000:])
            console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
            check(not console, "console messages: %s" % console[:5])
            out = dom.stdout
            check("Routing diff" in out, "the section title")
            if name == "one":
                check("moescope report --html OUT A B" in out and 'id="diff-table"' not in out, "one input: the note")
                continue
            table = out[out.index('id="diff-table"'):]
            table = table[: table.index("</table>")]
            rows = re.findall(r"<tr>(.*?)</tr>", table)[1:]
            cells = [re.findall(r"<td>(.*?)</td>", r) for r in rows]
            check(len(cells) == 7, "6 layers and all layers: %d rows" % len(cells))
            for c, w in zip(cells, layers + [None]):
                w = w or [l for l in want["layers"] if "layer" not in l][0]
                shown = [float(x) for x in c[2:6]]
                ref = [round(w[k], 4) for k in KEYS[1:5]]
                check(all(abs(a - b) < 1e-9 for a, b in zip(shown, ref)), "row %r vs %r" % (c, ref))
                check(c[6] == ("-" if w["weight_mass_overlap"] is None else "%.4f" % w["weight_mass_overlap"]),
                      "weight mass cell (the logs carry no weights): %r" % c[6])
                check(int(c[1]) == w["aligned"], "aligned cell")
                check(abs(float(c[7]) - round(w["chance_overlap"], 4)) < 1e-9, "chance cell %r" % c[7])
            v = re.search(r'id="diff-verdict">([^<]*)<', out).group(1)
            check("%.4f (layer %d)" % (want["verdict"]["min_overlap"], want["verdict"]["min_overlap_layer"]) in v, v)
            check(("near chance" in v) == want["verdict"]["near_chance"], "near chance as diff says: %r" % v)
    print("ok: the report's routing diff is diff's")


if __name__ == "__main__":
    main()
