#!/usr/bin/env python3
"""What the daemon's live cache simulation (moescoped --cache-capacity) costs the selection
path: instructions per record (callgrind, the marginal cost between two slices of the same
Qwen3-shaped CSV log, so start-up and SQLite set-up cancel out), of the loop thread (the
selection path) and of all threads, and replay MB/s, without
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


def instructions(log, extra, daemon=DAEMON):
    """(instructions of the loop thread, of all threads): the loop thread is the selection
    path (parse, validate, count); the writer thread saves and, since the live caches moved
    there, runs the caches on the buffered accesses."""
    with tempfile.TemporaryDirectory() as tmp, open(log, "rb") as stdin:
        out = os.path.join(tmp, "cg.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                            "--callgrind-out-file=" + out, daemon, "--db", os.path.join(tmp, "b.db"),
                            "--stdin", "--analytics", "standard", *extra],
                           stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r"Collected : (\d+)", p.stderr)
        if p.returncode or not m:
            sys.exit("callgrind run failed:\n" + p.stderr[-2000:])
        per_thread = {}
        for name in os.listdir(tmp):
            if name.startswith("cg.out"):
                with open(os.path.join(tmp, name)) as f:
                    t = re.search(r"^(?:totals|summary): (\d+)", f.read(), re.M)
                per_thread[name] = int(t.group(1)) if t else 0
        # The final flush at end of input runs on the loop thread once the writer is idle; a
        # tailing daemon never gets there, so it is left out of the selection path's count.
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", os.path.join(tmp, "cg.out-01")],
                             capture_output=True, text=True).stdout
        final = re.search(r"^\s*([\d,]+) .*Daemon::finish_shutdown\(\)", ann, re.M)
        loop = per_thread.get("cg.out-01", 0) - (int(final.group(1).replace(",", "")) if final else 0)
    return loop, int(m.group(1))


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
    print("%-9s %13s %9s %13s %9s %12s %8s" % ("capacity", "loop instr/r", "overhead",
                                                  "all instr/r", "overhead", "replay MB/s", "vs none"))
    base = base_t = None
    for name, extra in CONFIGS:
        (loop_s, all_s), (loop_b, all_b) = instructions(small, extra), instructions(big, extra)
        ipr = ((loop_b - loop_s) / (r_big - r_small), (all_b - all_s) / (r_big - r_small))
        t = replay_seconds(src, extra)
        base = base or ipr
        base_t = base_t or t
        print("%-9s %13.0f %8.1f%% %13.0f %8.1f%% %12.0f %7.1f%%" % (
            name, ipr[0], 100 * (ipr[0] / base[0] - 1), ipr[1], 100 * (ipr[1] / base[1] - 1),
            size / t / 1e6, 100 * (t / base_t - 1)))


if __name__ == "__main__":
    main()
