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
TITLES = ["Verdict", "Expert load by layer", "Imbalance across layers", "Decisions: coverage, keep/drop, expert cache",
          "Co-occurrence, layer", "Layer correlation",
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
        with Daemon("--db", db, "--follow", sample + "=llama", "--flush-ms", "50", "--cache-capacity", "4") as d:
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
        # Decisions: the keep/drop map agrees with prune's keep-list for the same rule, and
        # the live cache point is drawn next to the static curve.
        plan = cli_json("--db", db, "prune", "--keep-coverage", "0.9")
        keep = {l["layer"]: set(l["keep"]) for l in plan["layers"]}
        check(len(keep) == 6, "prune plans every layer")
        for layer, kept in keep.items():
            for e in (min(kept), max(set(range(32)) - kept)):
                want = "layer %d, expert %d: %s" % (layer, e, "kept" if e in kept else "dropped")
                check(want in dom.stdout, "keep/drop map cell '%s'" % want)
        live = cli_json("--db", db, "cache", "--policy", "lru")["results"][-1]
        check("lru (live, moescoped --cache-capacity) @ slots per layer 4: %.4f" % live["hit_rate"] in dom.stdout,
              "live lru point at capacity 4")

        shot = os.path.join(OUTDIR, "report.png")
        if os.path.exists(shot):
            os.remove(shot)
        s = chromium("--window-size=1400,2400", "--screenshot=" + shot, "file://" + page, user_dir=os.path.join(tmp, "u2"))
        check(os.path.exists(shot) and os.path.getsize(shot) > 20000, "screenshot written: %s" % s.stderr[-500:])
        shapes(tmp)
    print("ok: report renders in Chromium without console errors; screenshots in %s" % OUTDIR)


SHAPES = [(12, 64, 8), (48, 128, 8), (58, 256, 8)]  # layers, experts, top-k


def write_shape_log(path, layers, experts, k, tokens=160):
    """Random routing with expert 0 hot and expert E-1 never selected, two tags, no timestamps."""
    import random
    rnd = random.Random(layers * 1000 + experts)
    with open(path, "w") as f:
        for t in range(tokens):
            for l in range(layers):
                ids = rnd.sample(range(1, experts - 1), k)
                if rnd.random() < 0.6:
                    ids[0] = 0
                f.write(json.dumps({"layer": l, "experts": ids, "tag": "a" if t % 2 else "b"}) + "\n")


def shapes(tmp):
    """A person-readable checklist per model shape, checked on the DOM, and a 1400 px wide
    screenshot to look at: build/test-output/report_<L>x<E>.png.
    - the verdict, per-layer imbalance table and colour legends are present;
    - every layer has a row in the imbalance table; the expert with no hits is listed dead;
    - no drawing is wider than the page (1400 px window, 1280 px content): no overflow;
    - row labels are at least 12 px apart (text not overlapping);
    - a log without timestamps says "No timestamps" instead of drawing an empty axis."""
    import re
    for layers, experts, k in SHAPES:
        log = os.path.join(tmp, "shape_%d_%d.log" % (layers, experts))
        write_shape_log(log, layers, experts, k)
        page = os.path.join(OUTDIR, "report_%dx%d.html" % (layers, experts))
        cli("report", "--html", page, log, "--num-experts", str(experts))
        dom = chromium("--virtual-time-budget=10000", "--dump-dom", "file://" + page,
                       user_dir=os.path.join(tmp, "d%d" % layers))
        check(dom.returncode == 0, "chromium --dump-dom: %s" % dom.stderr[-2000:])
        out = dom.stdout
        console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
        check(not console, "%dx%d: console messages: %s" % (layers, experts, console[:5]))
        for ident in ("verdict-table", "imbalance-table", "heat-legend", "corr-legend", "cooc-legend", "no-timestamps",
                      "compare-layers"):
            check('id="%s"' % ident in out, "%dx%d: %s present" % (layers, experts, ident))
        table = out[out.index('id="imbalance-table"'):]
        table = table[: table.index("</table>")]
        check(table.count("<tr>") == layers + 2, "%dx%d: one imbalance row per layer" % (layers, experts))
        dead = len(cli_json("summary", log, "--num-experts", str(experts))["summary"]["dead"])
        check(dead >= layers and "<td>%d: L0/E" % dead in out, "%dx%d: %d dead experts listed" % (layers, experts, dead))
        check("rejected (moescope sources)" not in out, "%dx%d: the generated log is clean" % (layers, experts))
        widths = [float(w) for w in re.findall(r'<svg[^>]* width="([0-9.]+)"', out)]
        check(widths and max(widths) <= 1280, "%dx%d: drawings fit the page: %s" % (layers, experts, max(widths)))
        heat = out[out.index('id="heatmap"'):]
        heat = heat[: heat.index("</svg>")]
        ys = sorted(float(y) for y in re.findall(r'<text x="34" y="([0-9.]+)" text-anchor="end">', heat))
        check(len(ys) > 1 and min(b - a for a, b in zip(ys, ys[1:])) >= 12, "%dx%d: row labels apart" % (layers, experts))
        shot = os.path.join(OUTDIR, "report_%dx%d.png" % (layers, experts))
        if os.path.exists(shot):
            os.remove(shot)
        chromium("--window-size=1400,3000", "--screenshot=" + shot, "file://" + page,
                 user_dir=os.path.join(tmp, "s%d" % layers))
        check(os.path.exists(shot) and os.path.getsize(shot) > 20000, "%s written" % shot)


if __name__ == "__main__":
    main()
