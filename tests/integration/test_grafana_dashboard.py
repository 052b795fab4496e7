#!/usr/bin/env python3
"""The Grafana dashboard (samples/grafana/moescope.json, docs/OPERATIONS.md "Grafana dashboard")
works against a real daemon: a moescoped with every option a panel needs (a followed log with a
baseline and a drifting tag, a live TCP stream, --cache-capacity, --placement, --drift-baseline,
--drift-kde) is scraped by a real Prometheus that also loads the shipped alerting rules. Every
template variable's label_values() is answered by Prometheus, and every panel's query, with the
variables set to the values Prometheus gave and Grafana's interval macros to durations, returns
series: with the default selection (tag "all", every layer and instance) at least one finite
value, and with each single tag and layer at least one series. Some values are checked against
the CLI; the file's structure is checked too (Grafana itself is not packaged in Debian 12)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from harness import SOURCE, Daemon, check, cli, cli_json, committed_records, fail, free_port, scrape, wait_for

DASHBOARD = os.path.join(SOURCE, "samples", "grafana", "moescope.json")
RULES = os.path.join(SOURCE, "samples", "prometheus", "moescope_rules.yml")
E, K, LAYERS = 8, 2, 4
P = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.07, 0.05, 0.03])
Q = np.array([0.05, 0.20, 0.15, 0.10, 0.10, 0.07, 0.05, 0.28])  # layer 0 of the drifted window
SCRAPE_S = 1
# Grafana's $__rate_interval is max($__interval + scrape interval, 4 x scrape interval).
MACROS = {"$__rate_interval": "%ds" % (5 * SCRAPE_S), "$__interval": "%ds" % SCRAPE_S,
          "$__range": "1m", "$__interval_ms": str(1000 * SCRAPE_S)}


def records(rng, tag, probs_by_layer, n, t0=None, a=5, b=3):
    """n tokens routed top-2 on every layer; first weight 0.5 + 0.5 Beta(a, b) (for the KDE test)."""
    lines = []
    for i in range(n):
        for layer, probs in enumerate(probs_by_layer):
            w1 = round(0.5 + 0.5 * float(rng.beta(a, b)), 6)
            rec = {"layer": layer, "experts": [int(e) for e in rng.choice(E, size=K, replace=False, p=probs)],
                   "weights": [w1, round(1 - w1, 6)], "tag": tag}
            if t0 is not None:
                rec["ts"] = t0 + i * 3000.0 / n
            lines.append(json.dumps(rec))
    return lines


def write(path, lines):
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))


def panels(dash):
    """Every panel, rows' nested ones included (a collapsed row keeps its panels inside)."""
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])


def check_structure(dash):
    check(dash.get("schemaVersion", 0) >= 36, "schemaVersion %r" % dash.get("schemaVersion"))
    inputs = {i["name"]: i for i in dash.get("__inputs", [])}
    check(inputs.get("DS_PROMETHEUS", {}).get("pluginId") == "prometheus", "a DS_PROMETHEUS input: %r" % inputs)
    ds = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    ids = [p["id"] for p in panels(dash)]
    check(len(ids) == len(set(ids)), "panel ids are unique: %r" % ids)
    for p in panels(dash):
        g = p["gridPos"]
        check(g["x"] >= 0 and g["w"] >= 1 and g["h"] >= 1 and g["x"] + g["w"] <= 24,
              "panel %r fits the 24 columns: %r" % (p["title"], g))
        if p["type"] == "row":
            continue
        check(p.get("datasource") == ds, "panel %r datasource %r" % (p["title"], p.get("datasource")))
        check(p.get("targets"), "panel %r has no target" % p["title"])
        for t in p["targets"]:
            check(t.get("expr") and t.get("datasource") == ds, "panel %r target %r" % (p["title"], t))
    # Panels of one row band do not overlap (Grafana would push one down).
    cells = {}
    for p in panels(dash):
        g = p["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                check((x, y) not in cells, "panels %r and %r overlap" % (cells.get((x, y)), p["title"]))
                cells[(x, y)] = p["title"]
    rows = [p["title"] for p in panels(dash) if p["type"] == "row"]
    check(rows == ["Ingest health", "Hot experts", "Per-layer imbalance", "Drift", "Placement balance",
                   "Cache hit rates"], "rows %r" % rows)
    names = [v["name"] for v in dash["templating"]["list"]]
    check({"tag", "layer"} <= set(names), "tag and layer variables: %r" % names)
    for v in dash["templating"]["list"]:
        check(v.get("datasource") == ds and v["definition"].startswith("label_values("), "variable %r" % v["name"])


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())


class Prometheus:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d/api/v1/" % port

    def query(self, expr):
        try:
            doc = get(self.base + "query?query=" + urllib.parse.quote(expr))
        except urllib.error.HTTPError as e:  # 400: a query Prometheus cannot parse
            fail("Prometheus refused %s: %s" % (expr, e.read().decode()))
        check(doc["status"] == "success", "%s: %r" % (expr, doc))
        return doc["data"]["result"]

    def label_values(self, selector, label):
        return get(self.base + "label/%s/values?match[]=%s" % (label, urllib.parse.quote(selector)))["data"]


def regex_value(values):
    """A variable's value as Grafana's Prometheus datasource puts it into `label=~"$var"`:
    regex-escaped, several as (a|b), backslashes doubled for the PromQL string."""
    esc = [re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", v) for v in values]
    return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"


def substitute(expr, values):
    for macro, dur in MACROS.items():
        expr = expr.replace(macro, dur)
    for name in sorted(values, key=len, reverse=True):  # $layer before a hypothetical $l
        expr = expr.replace("${%s}" % name, values[name]).replace("$" + name, values[name])
    check("$" not in expr, "an unknown variable or macro left in %r" % expr)
    return expr


def variable_values(prom, dash, chosen):
    """Each variable's values as Prometheus answers its label_values(selector, label), in order
    (a later one's query uses the earlier ones); `chosen` picks what to substitute."""
    subst = {}
    for v in dash["templating"]["list"]:
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", v["definition"])
        check(m, "variable %s: %r" % (v["name"], v["definition"]))
        got = sorted(prom.label_values(substitute(m.group(1), subst), m.group(2)))
        check(got, "variable %s: label_values returned nothing" % v["name"])
        pick = chosen.get(v["name"])
        vals = got if pick is None else [pick]
        check(set(vals) <= set(got), "variable %s: %r not among %r" % (v["name"], vals, got))
        subst[v["name"]] = regex_value(vals) if v.get("multi") else vals[0]
    return subst


class Stream(threading.Thread):
    """A client streaming untimed records of tag 'stream' (and now and then a malformed line)
    into the daemon's TCP listener, so the rate() panels have live traffic to show."""
    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.stop = threading.Event()
        self.rng = np.random.default_rng(7)
        self.sent = 0

    def run(self):
        while not self.stop.wait(0.05):
            batch = records(self.rng, "stream", [P] * LAYERS, 10)
            if self.sent % 5 == 0:
                batch.append("{not json")
            self.sock.sendall("".join(l + "\n" for l in batch).encode())
            self.sent += 1
        self.sock.close()


def main():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    check_structure(dash)
    prom_bin = shutil.which("prometheus")
    if not prom_bin:
        print("SKIP: the prometheus package is not installed (scripts/test installs it with apt-get); "
              "only the dashboard's structure was checked")
        return
    rng = np.random.default_rng(31)
    hour0 = (int(time.time()) // 3600 - 6) * 3600  # closed drift windows, within the daemon's clock check
    meta = json.dumps({"type": "meta", "model_id": "dash-8x", "num_experts": E, "top_k": K})
    ref = records(rng, "ref", [P] * LAYERS, 1000, hour0)
    live = (records(rng, "live", [P] * LAYERS, 600, hour0 + 3600) +
            records(rng, "live", [Q] + [P] * (LAYERS - 1), 600, hour0 + 7200, 8, 2))
    with tempfile.TemporaryDirectory() as tmp:
        log, ref_log, plan, fit, db = (os.path.join(tmp, n) for n in
                                       ("routing.ndjson", "ref.ndjson", "plan.json", "fit.db", "d.db"))
        write(ref_log, [meta] + ref)
        write(log, [meta] + ref + live)
        cli("kde", "--fit", "ref", ref_log, "--db", fit)
        with open(plan, "w") as f:
            f.write(cli("place", log, "--gpus", "4", "--slots", "12", "--json").stdout)
        mport, lport, pport = free_port(), free_port(), free_port()
        with Daemon("--db", db, "--follow", log, "--listen", "tcp://:%d" % lport, "--metrics", ":%d" % mport,
                    "--flush-ms", "100", "--cache-capacity", "2,4", "--placement", plan,
                    "--drift-baseline", "ref", "--drift-window", "1h", "--drift-kde", fit,
                    "--drift-alert", "0.05") as d:
            d.wait_ready()
            wait_for(lambda: committed_records(db) >= len(ref) + len(live), "the followed log committed", attempts=600)
            exposed = set(re.findall(r"^# TYPE (\S+) ", scrape(mport), re.M))
            exprs = [e for _, e in targets(dash)] + [v["definition"] for v in dash["templating"]["list"]]
            used = set(re.findall(r"\bmoescope_[a-z0-9_]+", " ".join(exprs)))
            check(used <= exposed, "the dashboard uses metrics the daemon does not export: %r" % (used - exposed))
            stream = Stream(lport)
            stream.start()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: %ds\n  evaluation_interval: 1s\n"
                        "rule_files: ['%s']\n"
                        "scrape_configs:\n  - job_name: moescope\n"
                        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % (SCRAPE_S, RULES, mport))
            with open(os.path.join(tmp, "prom.log"), "w") as plog:
                p = subprocess.Popen([prom_bin, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                                      "--web.listen-address=127.0.0.1:%d" % pport], stdout=plog, stderr=plog)
            try:
                prom = Prometheus(pport)
                wait_for(lambda: urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % pport, timeout=5).status == 200,
                         "Prometheus ready", attempts=300, delay=0.1)
                # Enough scrapes for every rate() window to hold several samples of the stream.
                wait_for(lambda: prom.query('count_over_time(moescope_experts[1m]) >= %d' % (2 + 10 / SCRAPE_S)),
                         "ten scrapes", attempts=300, delay=0.1)
                wait_for(lambda: prom.query('ALERTS{alertname="MoescopeRoutingDrift"}'), "the drift rule evaluated",
                         attempts=300, delay=0.1)
                evaluate(prom, dash, db, plan)
            finally:
                p.terminate()
                p.wait(timeout=30)
                stream.stop.set()
                stream.join(timeout=10)
            d.stop()
    print("ok: every panel query of the Grafana dashboard returns data from Prometheus scraping moescoped")


def targets(dash):
    for p in panels(dash):
        for t in p.get("targets", []):
            yield p["title"], t["expr"]


def finite(result):
    return [float(s["value"][1]) for s in result if np.isfinite(float(s["value"][1]))]


def evaluate(prom, dash, db, plan):
    # The defaults a user sees on opening the dashboard: tag all, every layer and instance.
    default = variable_values(prom, dash, {"tag": "all"})
    for title, expr in targets(dash):
        q = substitute(expr, default)
        res = prom.query(q)
        check(res, "panel %r: no series for %s" % (title, q))
        check(finite(res), "panel %r: no finite value for %s: %r" % (title, q, res))
    # Each single tag and layer Prometheus offers for the variables.
    tags = prom.label_values('moescope_layer_tokens_total', "tag")
    check(set(tags) >= {"all", "ref", "live", "stream"}, "tags %r" % tags)
    n = 0
    for tag in tags:
        for layer in sorted(prom.label_values('moescope_layer_tokens_total{tag="%s",layer!="all"}' % tag, "layer")):
            subst = variable_values(prom, dash, {"tag": tag, "layer": layer})
            for title, expr in targets(dash):
                q = substitute(expr, subst)
                check(prom.query(q), "panel %r with tag %s layer %s: no series for %s" % (title, tag, layer, q))
                n += 1

    def one(title, target=0, **subst):
        expr = [e for t, e in targets(dash) if t == title][target]
        return prom.query(substitute(expr, {**default, **subst}))

    # Values, where the CLI or the test knows them.
    layers = {l["layer"]: l for l in cli_json("--db", db, "layers", "--tag", "ref")["layers"]}
    hot = one("Hottest experts per layer (since start)", tag="ref")
    check(len(hot) == 3 * LAYERS, "3 hot experts per layer: %r" % hot)
    for s in hot:
        layer = layers[int(s["metric"]["layer"])]
        want = [e for e in layer["experts"] if e["expert"] == int(s["metric"]["expert"])][0]
        check(abs(float(s["value"][1]) - want["hits"] / layer["selections"]) < 1e-12, "hot expert %r vs %r" % (s, want))
        check(want["expert"] in (0, 1, 2), "the hot experts are P's 3 heaviest: %r" % s)
    for s in one("Gini per layer", tag="ref"):
        want = layers[int(s["metric"]["layer"])]["gini"]
        check(abs(float(s["value"][1]) - want) < 1e-9, "gini %r vs CLI %r" % (s, want))
    by_source = {s["metric"]["source"]: float(s["value"][1]) for s in one("Records / s by source")}
    tcp = [v for k, v in by_source.items() if k.startswith("tcp://")]
    check(tcp and tcp[0] > 0, "the stream's records/s: %r" % by_source)
    malformed = {s["metric"]["reason"]: float(s["value"][1]) for s in one("Rejects and records left out / s")}
    check(malformed.get("invalid_json", 0) + malformed.get("malformed", 0) > 0, "the stream's rejects/s: %r" % malformed)
    left = {s["metric"]["check"]: float(s["value"][1]) for s in one("Rejects and records left out / s", 1)}
    check(set(left) == {"identical_routing_run", "strided_view"} and all(v == 0 for v in left.values()),
          "records left out per check (none in this traffic): %r" % left)
    check(finite(one("Open connections")) == [1.0], "one open connection")
    age = finite(one("Last commit age"))
    # Prometheus stamps a scrape as it starts it; the commit shown may be a moment younger.
    check(len(age) == 1 and -1 < age[0] < 5, "last commit %r s old at the scrape, with --flush-ms 100" % age)
    alerts = one("Drift alerts")
    check({(a["metric"]["tag"], a["metric"]["layer"], a["metric"]["alertstate"]) for a in alerts} ==
          {("live", "0", "pending"), ("all", "0", "pending")}, "the drifted layer 0 alerts: %r" % alerts)
    cur = {l["layer"]: l for l in cli_json("--db", db, "place", "--gpus", "4", "--current", plan, "--tag", "ref")["layers"]}
    imbalance = one("Placement imbalance per layer (since start)", tag="ref")
    check(len(imbalance) == LAYERS, "every layer placed: %r" % imbalance)
    for s in imbalance:
        want = cur[int(s["metric"]["layer"])]
        check(abs(float(s["value"][1]) - (1 / want["balancedness_current"] - 1)) < 1e-9, "imbalance %r vs %r" % (s, want))
    rates = finite(one("Expert-cache hit rate (recent, all layers)"))
    check(len(rates) == 4 and all(0 < r < 1 for r in rates), "lru and lfu at 2 and 4 slots: %r" % rates)
    print("checked %d panel queries with the defaults and %d with single tags and layers" % (len(list(targets(dash))), n))


if __name__ == "__main__":
    main()
