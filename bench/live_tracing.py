#!/usr/bin/env python3
"""What following tokens live (moescoped --affinity, --diff A:B; issue 30) costs the CSV
`standard` path: callgrind's instructions per record of the loop thread (the selection path:
read, parse, validate, count, and now follow), the marginal count between a 2 MB and a 6 MB
slice of the Qwen3-shaped CSV (start-up and SQLite set-up cancel out), as bench/live_cache.py
measures the live caches; with --before, the same for a daemon built before the change (its
path without the options). Target (issue 30): live transition counts add at most 10 %, else
they are off unless asked for. BENCHMARKS.md "Live token following".

    python3 bench/live_tracing.py [--before OLD_BUILD/moescoped]   # needs build/, valgrind
"""
import argparse
import os

from live_cache import SLICES_MB, instructions, slice_of
from run import DAEMON, OUT, generate

CONFIGS = [("off", []), ("--affinity", ["--affinity"])]


def per_record(small, big, n, extra, daemon):
    (loop_s, all_s), (loop_b, all_b) = (instructions(s, extra, daemon) for s in (small, big))
    return (loop_b - loop_s) / n, (all_b - all_s) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", help="moescoped built before the change")
    ap.add_argument("--after", default=DAEMON, help="moescoped with the change")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    src = generate("qwen3", "csv", 100)
    (small, r_small), (big, r_big) = (slice_of(src, mb) for mb in SLICES_MB)
    n = r_big - r_small
    rows = []
    if args.before:
        rows.append(("before (main)", per_record(small, big, n, [], args.before)))
    for name, extra in CONFIGS:
        rows.append((name, per_record(small, big, n, extra, args.after)))
    base = rows[0][1]
    print("| daemon | loop thread instr / record | change | all threads instr / record | change |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (loop, every) in rows:
        print("| %s | %.0f | %+.1f %% | %.0f | %+.1f %% |" % (
            name, loop, 100 * (loop / base[0] - 1), every, 100 * (every / base[1] - 1)), flush=True)


if __name__ == "__main__":
    main()
