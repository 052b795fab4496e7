"""docs/OPERATIONS.md "Running a fleet", end to end: a real Prometheus (Debian's package) scrapes three
moescoped daemons fed different logs, and PromQL `sum by (layer, expert)` of the hit
counters equals the hits of `moescope merge` of the three databases, expert by expert."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request

import numpy as np

from harness import Daemon, check, cli, cli_json, committed_records, fail, wait_for
from test_prometheus import free_port, get

E, K, LAYERS = 16, 2, 4


def write_log(path, rng, tag, n):
    alpha = rng.uniform(0.2, 3.0, size=E)  # each node its own routing
    with open(path, "w") as f:
        f.write(json.dumps({"type": "meta", "model_id": "fleet-16x", "num_experts": E, "top_k": K}) + "\n")
        for layer in range(LAYERS):
            p = rng.dirichlet(alpha)
            for _ in range(n):
                experts = [int(e) for e in rng.choice(E, size=K, replace=False, p=p)]
                f.write(json.dumps({"layer": layer, "experts": experts, "tag": tag}) + "\n")
    return n * LAYERS


def promql_vector(port, query):
    _, body = get("http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(query)))
    return json.loads(body)["data"]["result"]


def main():
    prom = shutil.which("prometheus")
    if not prom:
        fail("prometheus not found (apt-get install prometheus)")
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as tmp:
        daemons, dbs, ports = [], [], []
        try:
            for i, n in enumerate((700, 1100, 400)):
                log, db = os.path.join(tmp, "node%d.ndjson" % i), os.path.join(tmp, "node%d.db" % i)
                records = write_log(log, rng, "node%d" % i, n)
                d = Daemon("--db", db, "--follow", log, "--metrics", ":0", "--flush-ms", "50")
                daemons.append(d)
                dbs.append(db)
                m = wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", d.output()), "metrics endpoint")
                ports.append(int(m.group(1)))
                wait_for(lambda: committed_records(db) == records, "node %d ingested" % i)

            pport = free_port()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: moescope\n"
                        "    static_configs:\n      - targets: [%s]\n" % ", ".join("'127.0.0.1:%d'" % p for p in ports))
            with open(os.path.join(tmp, "prom.log"), "w") as plog:
                p = subprocess.Popen([prom, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                                      "--web.listen-address=127.0.0.1:%d" % pport], stdout=plog, stderr=plog)
                try:
                    wait_for(lambda: get("http://127.0.0.1:%d/-/ready" % pport)[0] == 200, "prometheus ready", attempts=300)
                    wait_for(lambda: len(promql_vector(pport, 'up{job="moescope"} == 1')) == 3, "three targets up",
                             attempts=300, delay=0.1)
                    q = 'sum by (layer, expert) (moescope_expert_hits_total{tag="all"})'
                    wait_for(lambda: len(promql_vector(pport, 'count by (instance) (moescope_expert_hits_total{tag="all"})')) == 3,
                             "every node's hits scraped", attempts=300, delay=0.1)
                    fleet = {(r["metric"]["layer"], int(r["metric"]["expert"])): float(r["value"][1])
                             for r in promql_vector(pport, q)}
                finally:
                    p.terminate()
                    p.wait(timeout=30)
        finally:
            for d in daemons:
                d.stop()
        merged = os.path.join(tmp, "fleet.db")
        cli("merge", *dbs, "--out", merged)
        expected = {(str(row["layer"]), e): float(h)
                    for row in cli_json("--db", merged, "matrix")["matrix"] for e, h in enumerate(row["hits"])}
        check(sum(expected.values()) == K * LAYERS * (700 + 1100 + 400), "merged selections")
        check(len(fleet) == LAYERS * E, "one series per (layer, expert): %d" % len(fleet))
        check(fleet == expected, "PromQL fleet sums == moescope merge hits")
    print("ok: PromQL sum by (layer, expert) over three scraped daemons == moescope merge")


if __name__ == "__main__":
    main()
