#!/usr/bin/env python3
"""What the daemon's live cache simulation (moescoped --cache-capacity) costs the selection
path: instructions per record (callgrind, the marginal cost between two slices of the same
Qwen3-shaped CSV log, so start-up and SQLite set-up cancel out) and replay MB/s, without
live caches and with 1 and 3 capacities (each runs an lru and an lfu cache per layer).
Target (issue 13): at most 10 % more per record. BENCHMARKS.md "Live cache simulation".

    python3 bench/live_cache.py            # needs build/ (scripts/setup) and valgrind
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from run import DAEMON, OUT, generate

CONFIGS = [("none", []), ("16", ["--cache-capacity", "16"]),
           ("8,16,32", ["--cache-capacity", "8,16,32"])]
SLICES_MB = (2, 6)


def slice_of(path, mb):
    out = os.path.join(OUT, "slice_%dmb.log" % mb)
    with open(path, "rb") as f, open(out, "wb") as g:
        data = f.read(mb * 1000 * 1000)
        g.write(data[:data.rfind(b"\n") + 1])
    with open(out, "rb") as f:
        return out, sum(1 for line in f if line[:1].isdigit())


def instructions(log, extra):
    with tempfile.TemporaryDirectory() as tmp, open(log, "rb") as stdin:
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                            DAEMON, "--db", os.path.join(tmp, "b.db"), "--stdin",
                            "--analytics", "standard", *extra],
                           stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode or not m:
        sys.exit("callgrind run failed:\n" + p.stderr[-2000:])
    return int(m.group(1))


def replay_seconds(log, extra, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp, open(log, "rb") as stdin:
            t0 = time.time()
            subprocess.run([DAEMON, "--db", os.path.join(tmp, "b.db"), "--stdin", "--analytics",
                            "standard", *extra], stdin=stdin, stderr=subprocess.DEVNULL, check=True)
            best = min(best, time.time() - t0)
    return best


def main():
    os.makedirs(OUT, exist_ok=True)
    src = generate("qwen3", "csv", 100)
    (small, r_small), (big, r_big) = (slice_of(src, mb) for mb in SLICES_MB)
    size = os.path.getsize(src)
    print("%-9s %14s %10s %12s %9s" % ("capacity", "instr/record", "overhead", "replay MB/s", "vs none"))
    base_ipr = base_t = None
    for name, extra in CONFIGS:
        ipr = (instructions(big, extra) - instructions(small, extra)) / (r_big - r_small)
        t = replay_seconds(src, extra)
        base_ipr = base_ipr or ipr
        base_t = base_t or t
        print("%-9s %14.0f %9.1f%% %12.0f %8.1f%%" % (name, ipr, 100 * (ipr / base_ipr - 1),
                                                   size / t / 1e6, 100 * (t / base_t - 1)))


if __name__ == "__main__":
    main()
