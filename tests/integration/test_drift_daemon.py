"""Live drift in moescoped (docs/OPERATIONS.md "Drift alerts", docs/FIGURES.md "Drift"): a baseline tag,
then a stream that shifts one layer. The moescope_drift_js gauge stays low for the unshifted
window, crosses --drift-alert after the shift and equals what `moescope drift` computes from
the database; the crossing logs exactly one warning line for the shifted layer, however many
windows the episode lasts, and none for the layer that did not move."""
import json
import os
import re
import tempfile
import time
import urllib.request

import numpy as np

from harness import Daemon, check, cli_json, committed_records, wait_for

E, K = 8, 2
P = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.07, 0.05, 0.03])
Q = np.array([0.05, 0.20, 0.15, 0.10, 0.10, 0.07, 0.05, 0.28])
EVIL = "evil\x1b[2J"  # ESC [2J clears a terminal
ALERT = 0.05  # bits: P vs Q is far above, P vs P far below at these sizes


def records(rng, tag, probs_by_layer, n, t0):
    lines = []
    for i in range(n):
        for layer, probs in enumerate(probs_by_layer):
            experts = [int(e) for e in rng.choice(E, size=K, replace=False, p=probs)]
            lines.append(json.dumps({"layer": layer, "experts": experts, "tag": tag, "ts": t0 + i * 3000.0 / n}))
    return lines


def append(path, lines):
    with open(path, "a") as f:
        f.write("".join(l + "\n" for l in lines))


def gauges(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^moescope_drift_js\{tag="([^"]*)",layer="([^"]*)",baseline="ref"\} (\S+)$', text, re.M):
        out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def main():
    rng = np.random.default_rng(1616)
    hour0 = (int(time.time()) // 3600 - 6) * 3600  # closed windows, within the daemon's clock check
    with tempfile.TemporaryDirectory() as tmp:
        db, log = os.path.join(tmp, "d.db"), os.path.join(tmp, "routing.ndjson")
        append(log, [json.dumps({"type": "meta", "model_id": "drift-8x", "num_experts": E, "top_k": K})])
        append(log, records(rng, "ref", [P, P], 1500, hour0))
        with Daemon("--db", db, "--follow", log, "--metrics", ":0", "--flush-ms", "50",
                    "--drift-baseline", "ref", "--drift-window", "1h", "--drift-alert", str(ALERT)) as d:
            m = wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", d.output()), "metrics endpoint")
            port = int(m.group(1))
            wait_for(lambda: committed_records(db) == 3000, "baseline committed")
            # Window 1: the same routing as the baseline.
            append(log, records(rng, "live", [P, P], 800, hour0 + 3600))
            wait_for(lambda: ("live", "0") in gauges(port), "the first live window's gauge")
            first = gauges(port)
            check(first[("live", "0")] < ALERT and first[("live", "1")] < ALERT, "no drift yet: %r" % first)
            check("drift:" not in d.output(), "no alert before the shift:\n" + d.output())
            # Windows 2 and 3: layer 0 shifted; one episode of two windows.
            append(log, records(rng, "live", [Q, P], 800, hour0 + 7200))
            append(log, records(rng, "live", [Q, P], 800, hour0 + 10800))
            # A tag written by a hostile client: its alert must not drive the terminal.
            append(log, records(rng, EVIL, [Q, P], 800, hour0 + 7200))
            wait_for(lambda: committed_records(db) == 3000 + 4 * 1600, "live records committed")
            wait_for(lambda: gauges(port).get(("live", "0"), 0) > ALERT, "the gauge crosses --drift-alert")
            time.sleep(0.3)  # a few more flushes: a repeated warning would show up
            g = gauges(port)
            check(g[("live", "1")] < ALERT, "layer 1 did not move: %r" % g)
            out = d.output()
            warn0 = [l for l in out.splitlines() if "drift: tag 'live' layer 0 " in l and "warn" in l]
            warn1 = [l for l in out.splitlines() if "drift: tag 'live' layer 1 " in l]
            check(len(warn0) == 1, "one warning line for the episode of layer 0:\n" + out)
            check(not warn1, "no warning for layer 1:\n" + out)
            wait_for(lambda: "drift: tag 'evil\\x1b[2J' layer 0 " in d.output(), "the escaped tag's alert")
            check("\x1b" not in d.output(), "a raw ESC in the log:\n" + repr(d.output()[-800:]))

            # The gauge is the JS of the last closed window, as `moescope drift` computes it.
            doc = cli_json("--db", db, "drift", "--tag", "live", "--baseline", "ref", "--window", "1h", "--layer", "0")
            last = doc["drift"]["layers"][0]["windows"][-1]
            check(last["start"] == hour0 + 10800, "last window: %r" % last)
            check(abs(last["js_divergence_bits"] - g[("live", "0")]) < 1e-9 * max(1, last["js_divergence_bits"]),
                  "gauge %r == drift %r" % (g[("live", "0")], last["js_divergence_bits"]))
            check(last["verdict"] == "drifted", "the CLI agrees: %r" % last)
            d.stop()
    print("ok")


if __name__ == "__main__":
    main()
