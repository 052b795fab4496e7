#!/usr/bin/env python3
"""moescoped's parallel backlog replay (issue 18): seconds until a followed file's whole
backlog is committed to SQLite, with --threads 1 and 2, runs interleaved, best of 3, on the
Qwen3-shaped selection CSV and gate logs of bench/out (made by build/gen_log when missing).
BENCHMARKS.md "Parallel full analytics and backlog replay".

    python3 bench/daemon_replay.py [--mb 500] [--gate-mb 400] [--repeat 3]
"""
import argparse
import os

from run import generate, replay


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--gate-mb", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    inputs = [("selection CSV", generate("qwen3", "csv", args.mb), ("counts", "standard", "full")),
              ("gate log", generate("qwen3", "gate", args.gate_mb), ("full",))]
    print("| input | analytics | threads | best s | MB/s | CPU s | peak RSS MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, path, sets in inputs:
        mb = os.path.getsize(path) / 1e6
        for analytics in sets:
            best = {}
            for _ in range(args.repeat):
                for threads in (1, 2):
                    r = replay(path, analytics, threads=threads)
                    best[threads] = min(best.get(threads, r), r)
            for threads in (1, 2):
                t, rss, cpu = best[threads]
                print("| %s %.0f MB | %s | %d | %.2f | %.0f | %.2f | %.0f |"
                      % (name, mb, analytics, threads, t, mb / t, cpu, rss))


if __name__ == "__main__":
    main()
