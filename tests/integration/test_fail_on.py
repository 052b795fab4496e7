#!/usr/bin/env python3
"""CI gates (issue 31 item 7): `--fail-on METRIC>VALUE` on compare, drift and kde exits 4 when a
figure crosses the threshold, with one line per crossing that names the layer (and window) and
the value the command's own JSON holds; nothing crossed exits 0 with the usual output; a bad
rule is one line and exit 2, before anything is read."""
import json
import os
import random
import re
import subprocess
import tempfile

from harness import MOESCOPE, check, cli_json, weighted_picks
from test_report_compare import tagged_log

BASE = 1_767_225_600  # 2026-01-01T00:00:00Z
E, K, LAYERS = 16, 2, 3


def run(*args):
    return subprocess.run([MOESCOPE, *args], capture_output=True, text=True, timeout=120)


def crossings(stderr):
    """(where, metric, value) of each crossing line."""
    out = []
    for line in stderr.splitlines():
        m = re.match(r"moescope: --fail-on (\S+): (all layers|layer (\d+))(?:, (window \S+))?: (\w+) (\S+)$",
                     line)
        check(m is not None, "crossing line: %r" % line)
        layer = None if m.group(2) == "all layers" else int(m.group(3))
        out.append((layer, m.group(4), m.group(5), float(m.group(6))))
    return out


def timed_log(path):
    """Tag 'live': hours 0-1 route uniformly; hour 2 leans on experts 0 and 1 at layer 0."""
    rng = random.Random(3)
    with open(path, "w") as f:
        for hour in range(3):
            for t in range(600):
                for layer in range(LAYERS):
                    w = [6.0 if hour == 2 and layer == 0 and e < 2 else 1.0 for e in range(E)]
                    picks = weighted_picks(rng, w, K)
                    f.write(json.dumps({"layer": layer, "experts": picks, "tag": "live",
                                        "ts": BASE + hour * 3600 + t * 5}) + "\n")


def weights_log(path):
    """Tags ref and same draw top-2 weights alike; shift's first weight is larger."""
    rng = random.Random(5)
    with open(path, "w") as f:
        for tag in ("ref", "same", "shift"):
            for t in range(800):
                for layer in range(LAYERS):
                    w0 = rng.uniform(0.5, 0.8) + (0.15 if tag == "shift" else 0.0)
                    f.write(json.dumps({"layer": layer, "experts": rng.sample(range(E), K),
                                        "weights": [w0, 1 - w0], "tag": tag}) + "\n")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # compare: each tag leans on its own experts, so JS crosses a low threshold everywhere.
        log = os.path.join(tmp, "tags.ndjson")
        tagged_log(log, ["code", "math"])
        ref = cli_json("compare", log, "--tag", "code")["compare"]
        js = {c["layer"]: c["js_divergence_bits"] for c in ref}
        low = min(js.values()) / 2
        p = run("compare", log, "--tag", "code", "--fail-on", "js>%g" % low, "--json")
        check(p.returncode == 4, "compare crossed: rc %d %r" % (p.returncode, p.stderr))
        check(json.loads(p.stdout)["compare"] == ref, "the output is printed as without --fail-on")
        got = crossings(p.stderr)
        check(sorted(g[0] if g[0] is not None else -1 for g in got) ==
              sorted(l if l is not None else -1 for l in js), "one line per layer: %r" % got)
        for layer, _, metric, value in got:
            check(metric == "js" and abs(value - js[layer]) <= 1e-3 * js[layer], "value %r" % (got,))
        p = run("compare", log, "--tag", "code", "--fail-on", "js>%g" % (max(js.values()) * 2))
        check(p.returncode == 0 and p.stderr == "" and "verdict" in p.stdout, "nothing crossed: %r" % p.stderr)
        # Two rules: only the crossed one speaks; p < 1e-300 crosses nowhere.
        p = run("compare", log, "--tag", "code", "--layer", "1", "--fail-on", "p<1e-300",
                "--fail-on", "js>=%g" % js[1])
        check(p.returncode == 4 and [(g[0], g[2]) for g in crossings(p.stderr)] == [(1, "js")],
              "js>= at exactly the value crosses; p does not: %r" % p.stderr)

        # drift: only layer 0's hour-2 window (and all layers combined) moved.
        tl = os.path.join(tmp, "timed.ndjson")
        timed_log(tl)
        args = ["drift", tl, "--tag", "live", "--baseline-window", "%d..%d" % (BASE, BASE + 3600),
                "--window", "1h"]
        doc = cli_json(*args)["drift"]["layers"]
        p = run(*args, "--fail-on", "js>0.01")
        check(p.returncode == 4, "drift crossed: %d %r" % (p.returncode, p.stderr))
        got = crossings(p.stderr)
        check({(g[0], g[1]) for g in got} <= {(0, "window 2026-01-01T02:00:00Z"),
                                              (None, "window 2026-01-01T02:00:00Z")}
              and (0, "window 2026-01-01T02:00:00Z") in {(g[0], g[1]) for g in got}, "drift lines %r" % got)
        l0 = [l for l in doc if l["layer"] == 0][0]["windows"]
        want = [w["js_divergence_bits"] for w in l0 if w["start"] == BASE + 7200][0]
        check(abs([g[3] for g in got if g[0] == 0][0] - want) <= 1e-3 * want, "drift value")
        check(run(*args, "--fail-on", "js>0.5").returncode == 0, "drift under the threshold")

        # kde: shift's weights differ from ref's; same's do not.
        wl = os.path.join(tmp, "weights.ndjson")
        weights_log(wl)
        shift = cli_json("kde", "--fit", "ref", "--test", "shift", wl)["kde"]["layers"]
        p = run("kde", "--fit", "ref", "--test", "shift", wl, "--fail-on", "ks>0.2")
        got = crossings(p.stderr)
        check(p.returncode == 4 and sorted(g[0] for g in got) == list(range(LAYERS)), "kde: %r" % p.stderr)
        for layer, _, _, value in got:
            check(abs(value - shift[layer]["ks_distance"]) <= 1e-3, "ks of layer %d" % layer)
        check(run("kde", "--fit", "ref", "--test", "same", wl, "--fail-on", "ks>0.2").returncode == 0,
              "same distribution passes")

        # Bad rules: one line, exit 2, nothing printed on stdout.
        for cmd, rule, says in ((["compare", log, "--tag", "code"], "overlap<0.9", "has no metric 'overlap'"),
                                (["compare", log, "--tag", "code"], "js=0.1", "expected METRIC>VALUE"),
                                (["drift", tl, "--tag", "live", "--baseline-window", "1..2"], "js>x", "is not a number"),
                                # Gates no value can cross would pass every run (a review found
                                # 'p>2' and the hex 'js>0x10' accepted).
                                (["compare", log, "--tag", "code"], "js>0x10", "is not a number"),
                                (["compare", log, "--tag", "code"], "p>2", "is from 0 to 1: 2 is outside it"),
                                (["compare", log, "--tag", "code"], "js>1", "it can never be above 1"),
                                (["compare", log, "--tag", "code"], "p<0", "it can never be below 0"),
                                (["kde", "--fit", "ref", wl], "ks>0.1", "--test")):
            p = run(*cmd, "--fail-on", rule)
            check(p.returncode == 2 and p.stdout == "" and len(p.stderr.strip().splitlines()) == 1
                  and says in p.stderr, "%s --fail-on %s: %d %r" % (cmd[0], rule, p.returncode, p.stderr))
        # drift on records without timestamps says what it needs (it said "no time buckets of
        # tag 'code' outside the baseline tag 'math'").
        p = run("drift", log, "--tag", "code", "--baseline", "math")
        check(p.returncode == 3 and "needs timed records" in p.stderr and "ts/timestamp" in p.stderr,
              "drift without timestamps: %d %r" % (p.returncode, p.stderr))
        p = run("layers", log, "--fail-on", "js>0.1")
        check(p.returncode == 2, "a command without metrics has no --fail-on: %r" % p.stderr)
        print("ok: --fail-on on compare, drift and kde: exit 4 with one line per crossing, values as in JSON")


if __name__ == "__main__":
    main()
