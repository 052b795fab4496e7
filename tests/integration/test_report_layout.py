#!/usr/bin/env python3
"""The HTML report's smaller things (issue 31), in headless Chromium:
- axis labels tell their ticks apart: the tag-comparison chart of two near-identical tags
  (JS divergence ~0.001 bits) read "0.00 / 0.00 / 0.00"; its top label is the largest value;
- tables stay within the content column (the gate-distance table ran past it): a wide table
  scrolls inside a wrapper no wider than the column, measured by a script added to a copy;
- one tag (FILE=chat) is not compared with 'all', its own records;
- engine totals (count-only) are headed as selections, not routing records."""
import json
import os
import random
import re
import shutil
import tempfile

from harness import SOURCE, check, cli, report_data
from test_report_browser import chromium

LLAMA = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
SGLANG = os.path.join(SOURCE, "samples", "realdata", "sglang", "deepseek_v3_prefill_in512.json")

MEASURE = """<script>
(function () {
  const column = document.getElementById("gates").getBoundingClientRect().width;
  const tables = [...document.querySelectorAll("table")].map(t => {
    const w = t.parentElement.classList.contains("scroll") ? t.parentElement : t;
    return {section: t.closest("section").id, box: w.getBoundingClientRect().width,
            table: t.getBoundingClientRect().width, scrolls: getComputedStyle(w).overflowX};
  });
  const pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify({column: column, tables: tables});
  document.body.appendChild(pre);
})();
</script></body>"""


def render(page, tmp, name, width=1400):
    dom = chromium("--virtual-time-budget=10000", "--window-size=%d,2000" % width, "--dump-dom", "file://" + page,
                   user_dir=os.path.join(tmp, name))
    check(dom.returncode == 0, "chromium: %s" % dom.stderr[-2000:])
    console = [l for l in dom.stderr.splitlines() if "CONSOLE" in l]
    check(not console, "console messages: %s" % console[:5])
    return dom.stdout


def axis_labels(tmp):
    rnd = random.Random(8)
    log = os.path.join(tmp, "twins.ndjson")
    with open(log, "w") as f:
        for t in range(6000):
            for l in range(4):
                f.write(json.dumps({"layer": l, "experts": rnd.sample(range(16), 2), "tag": "ab"[t % 2]}) + "\n")
    page = os.path.join(tmp, "twins.html")
    cli("report", "--html", page, log)
    js = [l["js_divergence_bits"] for c in report_data(page)["compare"][:1] for l in c["layers"] if l["layer"] >= 0]
    check(0 < max(js) < 0.01, "near-identical tags: JS %r" % js)
    out = render(page, tmp, "axis")
    sec = out[out.index('id="compare"'):]
    svg = sec[: sec.index("</svg>")]
    labels = re.findall(r'<text[^>]*class="ytick"[^>]*>([^<]*)</text>', svg)
    check(len(labels) == 3 and len(set(labels)) == 3, "three distinct axis labels: %r" % labels)
    top = float(labels[2])
    check(abs(top - max(js)) <= 0.05 * max(js), "the top label %r is the largest JS %.6f" % (labels[2], max(js)))


def table_widths(tmp):
    page = os.path.join(tmp, "gates.html")
    cli("report", "--html", page, LLAMA)
    measured = page.replace(".html", "_measured.html")
    open(measured, "w").write(open(page).read().replace("</body>", MEASURE, 1))
    out = render(measured, tmp, "width", width=1000)
    m = json.loads(re.search(r'<pre id="measure">(.*?)</pre>', out, re.S).group(1).replace("&quot;", '"'))
    gates = [t for t in m["tables"] if t["section"] == "gates"]
    check(gates and gates[0]["table"] > m["column"], "the gate table is wider than the column at 1000 px: %r" % m)
    for t in m["tables"]:
        check(t["box"] <= m["column"] + 0.5, "a %s table runs past the content column: %r" % (t["section"], t))
        check(t["table"] <= m["column"] + 0.5 or t["scrolls"] in ("auto", "scroll"), "wide and not scrolling: %r" % t)


def one_tag(tmp):
    page = os.path.join(tmp, "chat.html")
    cli("report", "--html", page, LLAMA + "=chat")
    check(report_data(page)["compare"] == [], "one tag: nothing compared")
    out = render(page, tmp, "chat")
    sec = out[out.index('id="compare"'):out.index('id="routing-diff"')]
    check("Only one tag" in sec and 'id="compare-layers"' not in sec and "'chat'" not in sec,
          "no comparison of 'chat' with 'all': %s" % sec[:400])


def count_only(tmp):
    page = os.path.join(tmp, "totals.html")
    cli("report", "--html", page, SGLANG)
    d = report_data(page)
    check(d["count_only"] is True, "SGLang totals are count-only")
    out = render(page, tmp, "totals")
    head = re.search(r'<p class="sub" id="summary">([^<]*)</p>', out).group(1)
    check("selections (engine totals)" in head and "routing records" not in head, "heading: %r" % head)
    check(("{:,}".format(d["selections"])) in head, "the selections counted: %r" % head)
    first = cli("summary", SGLANG).stdout.splitlines()[0]
    check("selections (engine totals, count-only)" in first and "routing records" not in first, first)


def main():
    if not shutil.which("chromium"):
        print("SKIP: chromium is not installed (scripts/test installs Debian's chromium package)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        axis_labels(tmp)
        table_widths(tmp)
        one_tag(tmp)
        count_only(tmp)
    print("ok: axis labels distinct, tables within the column, one tag not compared, totals as selections")


if __name__ == "__main__":
    main()
