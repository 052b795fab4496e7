#!/usr/bin/env python3
"""The HTML report in a real browser: headless Chromium (Debian's package) opens the file
with networking disabled, runs its scripts without a console error, and the rendered page
has every section title and a known heatmap cell with the value the CLI reports. A
screenshot is written to the test output directory (build/test-output/)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from harness import BUILD, SOURCE, Daemon, check, cli, cli_json, wait_for

OUTDIR = os.environ.get("MOESCOPE_TEST_OUTPUT", os.path.join(BUILD, "test-output"))
TITLES = ["Expert load by layer", "Imbalance across layers", "Co-occurrence, layer", "Layer correlation",
          "Gate-input distances", "Tag comparison", "Hits over time", "Inputs"]


def chromium(*args, user_dir):
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + user_dir, "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main():
    if not shutil.which("chromium"):
        print("SKIP: chromium is not installed (scripts/test installs Debian's chromium package)")
        return
    os.makedirs(OUTDIR, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # A database with tags, gate inputs and a timeline: the sample log and the Mixtral traces.
        db = os.path.join(tmp, "r.db")
        sample = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
        with Daemon("--db", db, "--follow", sample + "=llama", "--flush-ms", "50") as d:
            wait_for(lambda: cli_json("--db", db, "sources")["sources"][0]["records"] == 396, "sample ingested")
            d.stop()
        page = os.path.join(OUTDIR, "report.html")
        p = cli("--db", db, "report", "--html", page, "--cooc-layer", "2")
        check("wrote" in p.stdout, "report writes the file")
        html = open(page).read()
        check("http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html,
              "the report references nothing on the network")

        dom = chromium("--virtual-time-budget=10000", "--dump-dom", "file://" + page, user_dir=os.path.join(tmp, "u1"))
        check(dom.returncode == 0, "chromium --dump-dom: %s" % dom.stderr[-2000:])
        console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
        check(not console, "console messages: %s" % console[:5])
        for t in TITLES:
            check(t in dom.stdout, "section '%s' rendered" % t)
        layer = [l for l in cli_json("--db", db, "layers")["layers"] if l["layer"] == 3][0]
        top = layer["experts"][0]
        cell = "layer 3, expert %d: share %.2f%% (%d hits)" % (top["expert"], 100 * top["share"], top["hits"])
        check(cell in dom.stdout, "heatmap cell title '%s' in the page" % cell)
        check('id="h-3-%d"' % top["expert"] in dom.stdout, "the cell has its id")
        check("r(layer 0, delta 1) = " in dom.stdout, "correlation cells have values")
        check("experts " in dom.stdout and "together" in dom.stdout, "co-occurrence cells have values")

        shot = os.path.join(OUTDIR, "report.png")
        if os.path.exists(shot):
            os.remove(shot)
        s = chromium("--window-size=1400,2400", "--screenshot=" + shot, "file://" + page, user_dir=os.path.join(tmp, "u2"))
        check(os.path.exists(shot) and os.path.getsize(shot) > 20000, "screenshot written: %s" % s.stderr[-500:])
    print("ok: report renders in Chromium without console errors; screenshot %s" % shot)


if __name__ == "__main__":
    main()
