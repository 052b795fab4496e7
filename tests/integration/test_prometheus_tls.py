#!/usr/bin/env python3
"""Issue 19: a real Prometheus (Debian's package) scrapes moescoped's /metrics over HTTPS with
a bearer token read from a credentials file (the fleet scrape config of docs/OPERATIONS.md
"Running a fleet") and gets the values the CLI reports; a job without the credentials is
refused (401, target down)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request

import tls_certs
from harness import Daemon, SOURCE, check, cli_json, free_port, wait_for

TOKEN = "prom-scrape-token-1b7d"



def promql(port, query):
    url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(query))
    with urllib.request.urlopen(url, timeout=10) as r:
        res = json.loads(r.read().decode())["data"]["result"]
    return float(res[0]["value"][1]) if res else None


def main():
    prom = shutil.which("prometheus")
    if not prom:
        print("SKIP: the prometheus package is not installed (scripts/test installs it)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        certs = tls_certs.make(tmp)
        creds = os.path.join(tmp, "moescope.token")
        with open(creds, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(creds, 0o600)
        db = os.path.join(tmp, "m.db")
        sample = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
        with Daemon("--db", db, "--follow", sample, "--metrics", ":0", "--tls-cert", certs["server"],
                    "--tls-key", certs["server_key"], "--auth-token-file", creds, "--flush-ms", "50") as d:
            mport = int(wait_for(lambda: re.search(r"metrics on https://127\.0\.0\.1:(\d+)/metrics", d.output()),
                                 "the HTTPS metrics endpoint").group(1))
            wait_for(lambda: cli_json("--db", db, "sources")["sources"][0]["records"] == 396, "sample ingested")
            layer3 = [l for l in cli_json("--db", db, "layers")["layers"] if l["layer"] == 3][0]
            top = layer3["experts"][0]
            src = cli_json("--db", db, "sources")["sources"][0]

            pport = free_port()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: moescope
    scheme: https
    tls_config:
      ca_file: %(ca)s
    authorization:
      credentials_file: %(creds)s
    static_configs:
      - targets: ['127.0.0.1:%(port)d']
  - job_name: nocreds
    scheme: https
    tls_config:
      ca_file: %(ca)s
    static_configs:
      - targets: ['127.0.0.1:%(port)d']
""" % {"ca": certs["ca"], "creds": creds, "port": mport})
            with open(os.path.join(tmp, "prom.log"), "w") as plog:
                p = subprocess.Popen([prom, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                                      "--web.listen-address=127.0.0.1:%d" % pport], stdout=plog, stderr=plog)
                try:
                    wait_for(lambda: urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % pport, timeout=5).status == 200,
                             "prometheus ready", attempts=300)
                    q = 'moescope_expert_hits_total{job="moescope",tag="all",layer="3",expert="%d"}' % top["expert"]
                    got = wait_for(lambda: promql(pport, q), "a scrape over TLS to land", attempts=300, delay=0.1)
                    check(got == top["hits"], "PromQL %s = %r, CLI says %d" % (q, got, top["hits"]))
                    total = promql(pport, 'sum(moescope_expert_hits_total{job="moescope",tag="all",layer="3"})')
                    check(total == layer3["selections"], "sum over experts = selections")
                    recs = promql(pport, 'sum(moescope_source_records_total{job="moescope"})')
                    check(recs == src["records"], "records counter %r vs CLI %d" % (recs, src["records"]))
                    check(promql(pport, 'up{job="moescope"}') == 1.0, "the job with credentials is up")
                    wait_for(lambda: promql(pport, 'up{job="nocreds"}') == 0.0, "the job without credentials down",
                             attempts=300, delay=0.1)
                    check(promql(pport, 'count({job="nocreds", __name__=~"moescope_.*"})') is None,
                          "no moescope sample without credentials")
                    api = "http://127.0.0.1:%d/api/v1/targets" % pport
                    with urllib.request.urlopen(api, timeout=10) as r:
                        targets = json.loads(r.read().decode())["data"]["activeTargets"]
                    errs = [t["lastError"] for t in targets if t["labels"]["job"] == "nocreds"]
                    check(errs and "401" in errs[0], "Prometheus saw a 401: %r" % errs)
                finally:
                    p.terminate()
                    p.wait(timeout=30)
            d.stop()
        log = open(os.path.join(tmp, "prom.log")).read()
        check(TOKEN not in log, "the token is not in Prometheus' log")
    print("ok: Prometheus scraped over TLS with a bearer token from a credentials file; PromQL equals the CLI; "
          "no credentials, 401")


if __name__ == "__main__":
    main()
