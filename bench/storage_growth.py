#!/usr/bin/python3
"""How fast the daemon's database grows (issue 18, BENCHMARKS.md "Storage growth").

1. Growth per hour: timestamped NDJSON records of a 48-layer x 128-expert model (top-8, one
   tag, 60 s buckets, skewed routing) fed through `moescoped --stdin`, at two loads, for the
   build under test and (--before) an older build, e.g. /work/main/build before schema 3.
   Reported: the timeline's pages (SQLite's dbstat: table + index), per hour and per
   (layer, bucket) row, and the whole file.
2. A year of history for a 58 x 256 model, one tag, as the daemon keeps it with the default
   roll-ups and --retention-h 8760: the last day in minute buckets, the month before in hour
   buckets, the rest in day buckets. The schema and meta come from the daemon; the rows are
   written here in the documented encoding (docs/SCHEMA.md "Encodings"), with counts of a
   server doing 2,000 tokens/s per layer. Then the file size, and the time of `--since`
   queries over it with the CLI.

    /usr/bin/python3 bench/storage_growth.py [--before /work/main/build] [--hours 1]
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
DAY = 86400


def varint(x):
    out = bytearray()
    while x >= 0x80:
        out.append((x & 0x7F) | 0x80)
        x >>= 7
    out.append(x)
    return out


def sparse(counts):
    nz = [(e, int(c)) for e, c in enumerate(counts) if c]
    out, nxt = varint(len(counts)) + varint(len(nz)), 0
    for e, c in nz:
        out += varint(e - nxt) + varint(c)
        nxt = e + 1
    return bytes(out)


def skewed_probs(rng, experts):
    p = rng.pareto(1.5, experts) + 0.2  # a few hot experts, a long cold tail
    return p / p.sum()


def growth_log(layers, experts, k, tokens_per_min, hours, t0):
    """NDJSON of `hours` of records starting at t0, `tokens_per_min` per layer per minute."""
    path = os.path.join(OUT, "growth_%dx%d_%dtpm_%dh.ndjson" % (layers, experts, tokens_per_min, hours))
    stamp = path + ".t0"
    if os.path.exists(path) and os.path.exists(stamp) and abs(int(open(stamp).read()) - t0) < 3 * 3600:
        return path, int(open(stamp).read())
    rng = np.random.default_rng(18)
    probs = [np.log(skewed_probs(rng, experts)) for _ in range(layers)]
    with open(path, "w") as f:
        f.write(json.dumps({"type": "meta", "num_experts": experts, "top_k": k}) + "\n")
        for minute in range(hours * 60):
            lines = []
            for layer in range(layers):
                # Top-k of Gumbel-perturbed log-probabilities: k distinct experts per token.
                g = probs[layer] + rng.gumbel(size=(tokens_per_min, experts))
                top = np.argpartition(-g, k, axis=1)[:, :k]
                for i in range(tokens_per_min):
                    ts = t0 + minute * 60 + i * 60.0 / tokens_per_min
                    lines.append('{"layer":%d,"experts":[%s],"ts":%.3f}\n'
                                 % (layer, ",".join(map(str, top[i])), ts))
            f.writelines(lines)
    with open(stamp, "w") as f:
        f.write(str(t0))
    return path, t0


def daemon(build, db, stdin_path, *extra):
    with open(stdin_path, "rb") as stdin:
        subprocess.run([os.path.join(build, "moescoped"), "--db", db, "--stdin", *extra],
                       stdin=stdin, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)


def sizes(db):
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    timeline = con.execute("SELECT sum(pgsize) FROM dbstat WHERE name IN ('timeline', 'timeline_by_bucket')").fetchone()[0]
    rows = con.execute("SELECT count(*) FROM timeline").fetchone()[0]
    version = con.execute("PRAGMA user_version").fetchone()[0]
    con.close()
    return os.path.getsize(db), timeline, rows, version


def growth(builds, hours, loads):
    print("## Growth per hour: 48 layers x 128 experts, top-8, one tag, 60 s buckets, %d h" % hours)
    print("| build | schema | tokens/min/layer | records | file MB | timeline MB/hour | bytes per row |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    t0 = (int(time.time()) - (hours + 1) * 3600) // 3600 * 3600  # within the retention, not rolled up
    for tpm in loads:
        log, t0 = growth_log(48, 128, 8, tpm, hours, t0)
        for name, build in builds:
            with tempfile.TemporaryDirectory() as tmp:
                db = os.path.join(tmp, "g.db")
                daemon(build, db, log)
                total, timeline, rows, version = sizes(db)
            print("| %s | %d | %d | %d | %.1f | %.2f | %.0f |" % (
                name, version, tpm, 48 * tpm * 60 * hours, total / 1e6, timeline / 1e6 / hours, timeline / rows))
            sys.stdout.flush()


def year(build, tokens_per_s=2000, layers=58, experts=256, k=8):
    print("\n## A year of history: %d layers x %d experts, top-%d, %d tokens/s per layer, one tag"
          % (layers, experts, k, tokens_per_s))
    rng = np.random.default_rng(365)
    now = int(time.time())
    minute_cut = (now - DAY) // 3600 * 3600  # the daemon's cutoffs (docs/SCHEMA.md "Roll-ups")
    hour_cut = (now - 30 * DAY) // DAY * DAY
    start = (now - 365 * DAY) // DAY * DAY
    buckets = ([(b, DAY) for b in range(start, hour_cut, DAY)]
               + [(b, 3600) for b in range(hour_cut, minute_cut, 3600)]
               + [(b, 60) for b in range(minute_cut, now // 60 * 60, 60)])
    pools = {}
    for width in (60, 3600, DAY):  # 16 distinct rows per width, reused: sizes are what matter
        mean = tokens_per_s * width * k
        pools[width] = [(sparse(rng.poisson(mean * skewed_probs(rng, experts))), mean // k)
                        for _ in range(16)]
    with tempfile.TemporaryDirectory() as tmp:
        db, seed = os.path.join(tmp, "year.db"), os.path.join(tmp, "seed.ndjson")
        with open(seed, "w") as f:
            f.write(json.dumps({"type": "meta", "num_experts": experts, "top_k": k}) + "\n")
        daemon(build, db, seed, "--retention-h", "8760")
        con = sqlite3.connect(db)
        rows = ((("all", layer, b, w, pools[w][(i + layer) % 16][1], pools[w][(i + layer) % 16][0])
                 for i, (b, w) in enumerate(buckets) for layer in range(-1, layers)))
        con.executemany("INSERT INTO timeline(tag, layer, bucket, seconds, tokens, hits) VALUES(?,?,?,?,?,?)", rows)
        con.commit()
        con.close()
        total, timeline, n, version = sizes(db)
        print("rows %d (%d minute, %d hour, %d day buckets per layer); file %.1f MB, timeline %.1f MB"
              % (n, sum(w == 60 for _, w in buckets), sum(w == 3600 for _, w in buckets),
                 sum(w == DAY for _, w in buckets), total / 1e6, timeline / 1e6))
        minute_row = len(pools[60][0][0]) + 30  # + key, width, tokens and b-tree overhead
        print("without roll-ups (estimated): %d rows, %.1f GB sparse, %.1f GB as uint64 per expert"
              % ((layers + 1) * 365 * 1440, (layers + 1) * 365 * 1440 * minute_row / 1e9,
                 (layers + 1) * 365 * 1440 * (experts * 8 + 30) / 1e9))
        print("| query | seconds (best of 3) |\n| --- | ---: |")
        cli = os.path.join(build, "moescope")
        for args in (["timeline", "--since", "-1h"], ["timeline", "--since", "-7d"],
                     ["layers", "--since", "-1d"], ["layers", "--since", "-30d"],
                     ["layers", "--since", "-365d"], ["layers"]):
            best = float("inf")
            for _ in range(3):
                t = time.time()
                subprocess.run([cli, "--db", db, *args, "--json"], stdout=subprocess.DEVNULL, check=True)
                best = min(best, time.time() - t)
            print("| `moescope %s` | %.3f |" % (" ".join(args), best))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("MOESCOPE_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--before", help="an older build directory to compare with")
    ap.add_argument("--hours", type=int, default=1)
    ap.add_argument("--loads", default="20,500", help="tokens per minute per layer")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    builds = ([("before", args.before)] if args.before else []) + [("this", args.build)]
    growth(builds, args.hours, [int(x) for x in args.loads.split(",")])
    year(args.build)


if __name__ == "__main__":
    main()
