"""The daemon's live KDE test (moescoped --drift-kde DB; docs/OPERATIONS.md "Drift alerts", docs/FIGURES.md
"Reference distributions"): a baseline's top-1 weights are fitted and stored by `moescope kde
--fit`, the daemon follows a log of the baseline then a live tag whose weights are the same for
one window and sharper in the next. moescope_drift_ks stays near 0, then rises, and equals the
exact KS distance `moescope kde --test --reference DB` gives for that window's records, less at
most one bin width (the daemon counts p-values in 1,000 bins). Bad option combinations and a
database without the fit are one-line errors at start."""
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.request

import numpy as np

from harness import MOESCOPED, Daemon, check, cli, cli_json, committed_records, wait_for

E, K = 8, 2


def records(rng, tag, n, t0, a, b):
    """Top-2 records of 2 layers whose first weight is 0.5 + 0.5 Beta(a, b)."""
    lines = []
    for i in range(n):
        for layer in range(2):
            w1 = round(0.5 + 0.5 * float(rng.beta(a, b)), 6)
            experts = [int(e) for e in rng.choice(E, size=K, replace=False)]
            lines.append(json.dumps({"layer": layer, "experts": experts, "weights": [w1, round(1 - w1, 6)],
                                     "tag": tag, "ts": t0 + i * 3000.0 / n}))
    return lines


def write(path, lines, mode="a"):
    with open(path, mode) as f:
        f.write("".join(l + "\n" for l in lines))


def gauges(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^%s\{tag="([^"]*)",layer="([^"]*)",baseline="ref"\} (\S+)$' % name, text, re.M):
        out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def main():
    rng = np.random.default_rng(2718)
    hour0 = (int(time.time()) // 3600 - 6) * 3600  # closed windows, within the daemon's clock check
    meta = json.dumps({"type": "meta", "model_id": "kde-8x", "num_experts": E, "top_k": K})
    with tempfile.TemporaryDirectory() as tmp:
        db, fit_db, log = (os.path.join(tmp, n) for n in ("d.db", "fit.db", "routing.ndjson"))
        base = records(rng, "ref", 1500, hour0, 5, 3)
        ref_file, same_file, shift_file = (os.path.join(tmp, n) for n in ("ref.ndjson", "same.ndjson", "shift.ndjson"))
        write(ref_file, [meta] + base, "w")
        cli("kde", "--fit", "ref", ref_file, "--db", fit_db)
        same = records(rng, "live", 800, hour0 + 3600, 5, 3)
        shift = records(rng, "live", 800, hour0 + 7200, 8, 2)
        write(same_file, [meta] + same, "w")
        write(shift_file, [meta] + shift, "w")

        # A fit database without the baseline's fit, and --drift-kde without a baseline.
        for args, what in ((["--drift-baseline", "other", "--drift-kde", fit_db], "holds no fit of tag 'other'"),
                           (["--drift-kde", fit_db], "give both"),
                           (["--drift-baseline", "ref", "--drift-kde", os.path.join(tmp, "none.db")], "none.db")):
            p = subprocess.run([MOESCOPED, "--db", os.path.join(tmp, "x.db"), "--stdin", *args],
                               input="", capture_output=True, text=True, timeout=60)
            check(p.returncode != 0 and what in p.stderr, "%r: rc %d, %r" % (args, p.returncode, p.stderr))

        write(log, [meta] + base)
        with Daemon("--db", db, "--follow", log, "--metrics", ":0", "--flush-ms", "50",
                    "--drift-baseline", "ref", "--drift-window", "1h", "--drift-kde", fit_db) as d:
            m = wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", d.output()), "metrics endpoint")
            port = int(m.group(1))
            check("testing top1_weight against the KDE fit of tag 'ref' (2 layers)" in d.output(), d.output())
            wait_for(lambda: committed_records(db) == 3000, "baseline committed")
            check(("ref", "0") not in gauges(port, "moescope_drift_ks"), "the baseline is not tested against itself")
            for lines, path, near in ((same, same_file, True), (shift, shift_file, False)):
                before = committed_records(db)
                write(log, lines)
                wait_for(lambda: committed_records(db) == before + len(lines), "window committed")
                start = json.loads(lines[0])["ts"]
                wait_for(lambda: gauges(port, "moescope_drift_kde_values").get(("live", "0")) == 800 and
                         gauges(port, "moescope_drift_window_start_seconds").get(("live", "0")) == int(start),
                         "the window's gauges")
                time.sleep(0.2)  # a flush or two later: the window's last records are in
                ks = gauges(port, "moescope_drift_ks")
                n = gauges(port, "moescope_drift_kde_values")
                exact = cli_json("kde", "--test", "live", path, "--reference", fit_db)["kde"]["layers"]
                for layer in ("0", "1"):
                    want = exact[int(layer)]["ks_distance"]
                    check(n[("live", layer)] == 800 and n[("all", layer)] == 800,
                          "values: %r" % n)
                    got = ks[("live", layer)]
                    check(want - 0.001 - 1e-9 <= got <= want + 1e-9,
                          "layer %s: gauge %r, exact %r (window at %d)" % (layer, got, want, start))
                    check((got < 0.08) if near else (got > 0.25), "layer %s KS %r" % (layer, got))
            d.stop()
    print("ok")


if __name__ == "__main__":
    main()
