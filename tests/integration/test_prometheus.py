#!/usr/bin/env python3
"""moescoped's /metrics scraped by a real Prometheus server (Debian's package) on loopback:
PromQL through Prometheus' HTTP API returns the hit counts, imbalance gauges and ingest
counters that the CLI reports. Also /healthz, a 404, and the exposition's own format."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import Daemon, SOURCE, check, cli_json, free_port, wait_for



def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


def promql(port, query):
    _, body = get("http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(query)))
    res = json.loads(body)["data"]["result"]
    return float(res[0]["value"][1]) if res else None


def main():
    prom = shutil.which("prometheus")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "m.db")
        sample = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
        with Daemon("--db", db, "--follow", sample, "--metrics", ":0", "--flush-ms", "50") as d:
            m = wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics \(loopback only\)", d.output()),
                         "the metrics endpoint in the log")
            mport = int(m.group(1))
            wait_for(lambda: cli_json("--db", db, "sources")["sources"][0]["records"] == 396, "sample ingested")
            status, body = get("http://127.0.0.1:%d/healthz" % mport)
            check(status == 200 and body == "ok\n", "/healthz")
            try:
                get("http://127.0.0.1:%d/nope" % mport)
                check(False, "unknown paths are 404")
            except urllib.error.HTTPError as e:
                check(e.code == 404, "unknown paths are 404")
            status, text = get("http://127.0.0.1:%d/metrics" % mport)
            check("# TYPE moescope_expert_hits_total counter" in text, "exposition has TYPE lines")
            for line in text.splitlines():
                if line and not line.startswith("#"):
                    check(re.fullmatch(r'[a-z_][a-z0-9_]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)', line), "sample line: %r" % line)

            layer3 = [l for l in cli_json("--db", db, "layers")["layers"] if l["layer"] == 3][0]
            top = layer3["experts"][0]
            src = cli_json("--db", db, "sources")["sources"][0]

            if not prom:
                print("SKIP Prometheus scrape: the prometheus package is not installed "
                      "(scripts/test installs it; the exposition itself was checked above)")
                d.stop()
                return
            pport = free_port()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: moescope\n"
                        "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % mport)
            with open(os.path.join(tmp, "prom.log"), "w") as plog:
                p = subprocess.Popen([prom, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                                      "--web.listen-address=127.0.0.1:%d" % pport], stdout=plog, stderr=plog)
                try:
                    wait_for(lambda: get("http://127.0.0.1:%d/-/ready" % pport)[0] == 200, "prometheus ready", attempts=300)
                    q = 'moescope_expert_hits_total{tag="all",layer="3",expert="%d"}' % top["expert"]
                    got = wait_for(lambda: promql(pport, q), "a scrape to land", attempts=300, delay=0.1)
                    check(got == top["hits"], "PromQL %s = %r, CLI says %d" % (q, got, top["hits"]))
                    gini = promql(pport, 'moescope_layer_gini{tag="all",layer="3"}')
                    check(abs(gini - layer3["gini"]) < 1e-9, "gini gauge %r vs CLI %r" % (gini, layer3["gini"]))
                    total = promql(pport, 'sum(moescope_expert_hits_total{tag="all",layer="3"})')
                    check(total == layer3["selections"], "sum over experts = selections")
                    recs = promql(pport, "sum(moescope_source_records_total)")
                    check(recs == src["records"], "records counter %r vs CLI %d" % (recs, src["records"]))
                    up = promql(pport, 'up{job="moescope"}')
                    check(up == 1.0, "Prometheus sees the target up")
                finally:
                    p.terminate()
                    p.wait(timeout=30)
            d.stop()
    print("ok: Prometheus scraped moescoped; PromQL values equal the CLI's")


if __name__ == "__main__":
    main()
