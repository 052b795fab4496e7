#!/usr/bin/env python3
"""Test of the DuckDB baseline: its figures must equal moescope's on the same log.

    python3 bench/duckdb/check.py [FILE]

FILE defaults to a 2 MB Qwen3-shaped selection CSV log written by build/gen_log into
bench/out/. Runs `node bench/duckdb/baseline.mjs FILE --query standard --dump DIR` and
compares, exactly:
  hits per (layer, expert)        with `moescope matrix FILE --json` (zeros included);
  tokens per layer                with `moescope layers FILE --json`;
  co-occurrence per (layer, a<b)  with `moescope cooc FILE --json --top 1000000`.
Exit status: 0 equal, 1 a mismatch (the differences are printed), 2 cannot run (no
node_modules: run bench/setup; no build/moescope or build/gen_log).
MOESCOPE_BUILD overrides the build directory (default build/).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("MOESCOPE_BUILD", os.path.join(ROOT, "build"))
CLI, GEN = os.path.join(BUILD, "moescope"), os.path.join(BUILD, "gen_log")


def die(msg, status=2):
    print("check.py: " + msg, file=sys.stderr)
    sys.exit(status)


def moescope_json(*args):
    return json.loads(subprocess.run([CLI, *args, "--json"], check=True, capture_output=True).stdout)


def read_csv(path):
    with open(path, newline="") as f:
        return [[int(x) for x in row] for row in list(csv.reader(f))[1:]]


def main():
    if not os.path.isdir(os.path.join(HERE, "node_modules", "@duckdb", "node-api")):
        die("bench/duckdb/node_modules missing: run bench/setup")
    if not os.access(CLI, os.X_OK):
        die("%s missing: build first" % CLI)
    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        if not os.access(GEN, os.X_OK):
            die("%s missing: build first" % GEN)
        out = os.path.join(ROOT, "bench", "out")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "duckdb_check_qwen3_csv_2mb.log")
        if not os.path.exists(path):
            with open(path + ".tmp", "wb") as f:
                subprocess.run([GEN, "--shape", "qwen3", "--format", "csv", "--mb", "2"], stdout=f, check=True)
            os.rename(path + ".tmp", path)

    with tempfile.TemporaryDirectory() as dump:
        r = subprocess.run(["node", os.path.join(HERE, "baseline.mjs"), path, "--threads", "2",
                            "--query", "standard", "--dump", dump], capture_output=True, text=True)
        if r.returncode:
            die("baseline.mjs failed (%d): %s" % (r.returncode, r.stderr.strip()), 1)
        info = json.loads(r.stdout)
        d_hits = {(l, e): n for l, e, n in read_csv(os.path.join(dump, "hits.csv"))}
        d_tokens = {l: n for l, n in read_csv(os.path.join(dump, "tokens.csv"))}
        d_pairs = {(l, a, b): n for l, a, b, n in read_csv(os.path.join(dump, "pairs.csv"))}

    m_hits, m_tokens, m_pairs = {}, {}, {}
    for row in moescope_json("matrix", path)["matrix"]:
        if row["tag"] == "all":
            for e, n in enumerate(row["hits"]):
                if n:  # DuckDB has no rows for experts never selected
                    m_hits[(row["layer"], e)] = n
    for row in moescope_json("layers", path)["layers"]:
        if row["tag"] == "all":
            m_tokens[row["layer"]] = row["tokens"]
    for row in moescope_json("cooc", path, "--top", "1000000")["cooc"]:
        if row["tag"] == "all":
            m_pairs[(row["layer"], row["a"], row["b"])] = row["count"]

    bad = 0
    for name, d, m in (("hits", d_hits, m_hits), ("tokens", d_tokens, m_tokens), ("pairs", d_pairs, m_pairs)):
        diff = sorted(k for k in d.keys() | m.keys() if d.get(k) != m.get(k))
        if not m:
            print("%s: moescope reported none" % name)
            bad += 1
        if diff:
            bad += 1
            print("%s: %d of %d keys differ, e.g. %s" % (name, len(diff), len(d.keys() | m.keys()),
                  ", ".join("%s duckdb %s moescope %s" % (k, d.get(k), m.get(k)) for k in diff[:5])))
        else:
            print("%s: %d keys equal (total %d)" % (name, len(m), sum(m.values())))
    print("duckdb %s on %s: %s" % (info["duckdb_version"], os.path.relpath(path), "MISMATCH" if bad else "OK"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
