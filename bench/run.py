#!/usr/bin/env python3
"""moescope's benchmark: throughput and memory of `moescope analyze` and of the daemon
(file replay into SQLite) per input format and analytics set, side by side with what users
run today (a pandas script, DuckDB, a numpy gate-distance script, and `wc -l` as the speed
of just reading the bytes); the
memory of a 2 GB DeepSeek-shaped replay; and a live tail at a fixed record rate (lag and
CPU). Deterministic inputs from build/gen_log. Run bench/setup first.

    python3 bench/run.py                 # 500 MB inputs, best of 3, everything but the 2 GB run
    python3 bench/run.py --mb 1000 --big # larger inputs, plus the 2 GB memory check
Results print as a table and are written to bench/out/results.json.
"""
import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("MOESCOPE_BUILD", os.path.join(ROOT, "build"))
OUT = os.path.join(HERE, "out")
GEN, CLI, DAEMON = (os.path.join(BUILD, x) for x in ("gen_log", "moescope", "moescoped"))
SETS = ("counts", "standard", "full")


def generate(shape, fmt, mb):
    path = os.path.join(OUT, "%s_%s_%dmb.log" % (shape, fmt, mb))
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            subprocess.run([GEN, "--shape", shape, "--format", fmt, "--mb", str(mb)], stdout=f, check=True)
        os.rename(path + ".tmp", path)
    return path


def run_measured(cmd, **kw):
    """Runs cmd; returns (seconds, peak RSS MB, CPU seconds) of that process alone."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        raise RuntimeError("%s failed (%d)" % (" ".join(cmd), status))
    return time.time() - t0, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime


def records_in(path):
    with open(path, "rb") as f:
        return sum(1 for line in f if line[:1].isdigit() or line[:1] == b"{")


def committed_offset(db):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        row = con.execute("SELECT offset FROM sources").fetchone()
        con.close()
        return row[0] if row else 0
    except sqlite3.Error:
        return 0


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    with open("/proc/%d/status" % pid) as f:
        hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), hwm


def replay(path, analytics, flush_ms=500, threads=0):
    """Daemon path: seconds until the whole file is committed to SQLite, peak RSS, CPU s.
    `threads`: moescoped --threads (0: every core, its default)."""
    db = os.path.join(OUT, "replay.db")
    for s in ("", "-wal", "-shm"):
        if os.path.exists(db + s):
            os.remove(db + s)
    size = os.path.getsize(path)
    t0 = time.time()
    p = subprocess.Popen([DAEMON, "--db", db, "--follow", path, "--analytics", analytics, "--flush-ms",
                          str(flush_ms), "--poll-ms", "20", "--threads", str(threads)],
                         stderr=subprocess.DEVNULL)
    while committed_offset(db) < size:
        time.sleep(0.02)
        if p.poll() is not None:
            raise RuntimeError("moescoped exited")
    t = time.time() - t0
    cpu, hwm = proc_stat(p.pid)
    p.terminate()
    p.wait()
    return t, hwm, cpu


def live_tail(rate, seconds, analytics="standard"):
    """A writer appends CSV lines at `rate` records/s; returns (p50, max lag s, CPU % of one core)."""
    log, db = os.path.join(OUT, "live.log"), os.path.join(OUT, "live.db")
    for f in (log, db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    src = generate("qwen3", "csv", 50)
    with open(src, "rb") as f:
        lines = f.read().split(b"\n")[1:-1]
    open(log, "wb").close()
    p = subprocess.Popen([DAEMON, "--db", db, "--follow", log, "--analytics", analytics], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    written = [0, 0]  # bytes, records
    history = []      # (time, bytes written)
    stop = threading.Event()

    def writer():
        i, tick = 0, 0.01
        t_start = time.time()
        with open(log, "ab", buffering=0) as f:
            while not stop.is_set():
                due = int((time.time() - t_start) * rate)
                if due > written[1]:
                    n = due - written[1]
                    chunk = b"\n".join(lines[(i + j) % len(lines)] for j in range(n)) + b"\n"
                    i += n
                    f.write(chunk)
                    written[0] += len(chunk)
                    written[1] = due
                    history.append((time.time(), written[0]))
                time.sleep(tick)

    t = threading.Thread(target=writer)
    t.start()
    cpu0, _ = proc_stat(p.pid)
    t0 = time.time()
    lags = []
    while time.time() - t0 < seconds:
        time.sleep(0.1)
        off = committed_offset(db)
        now = time.time()
        # lag: how long ago the writer had written as much as is committed now
        behind = [ts for ts, b in history if b > off]
        lags.append(now - behind[0] if behind else 0.0)
    cpu1, _ = proc_stat(p.pid)
    wall = time.time() - t0
    stop.set()
    t.join()
    p.terminate()
    p.wait()
    lags = sorted(lags[10:])  # skip the first second
    return lags[len(lags) // 2], lags[-1], 100.0 * (cpu1 - cpu0) / wall, written[1] / (time.time() - t0)


def print_targets(results, pandas_mb_s):
    """Issue 18's throughput targets, each with its measured value from this run."""
    def mb_s(fmt, path, a=None):
        rows = [r for r in results["runs"] if r["format"] == fmt and r["path"] == path and r.get("analytics") == a]
        return rows[0]["mb_s"] if rows else None

    std = mb_s("csv", "analyze", "standard")
    rows = [("CSV standard, analyze, all cores >= 400 MB/s", std, 400),
            ("... >= 20 % of cat through a pipe (%)", std / mb_s("csv", "cat|pipe") * 100, 20),
            ("... (for scale: % of cat to /dev/null)", std / mb_s("csv", "cat") * 100, None),
            ("gate full, analyze, all cores >= 800 MB/s", mb_s("gate", "analyze", "full"), 800),
            ("NDJSON counts, analyze, all cores >= 500 MB/s", mb_s("ndjson", "analyze", "counts"), 500)]
    if pandas_mb_s:
        rows.append(("CSV standard >= 150x pandas", std / pandas_mb_s, 150))
    for key, what, want in (("duckdb_counts", "CSV counts >= 5x DuckDB (2 threads)", 5),
                            ("duckdb_standard", "CSV standard >= 4x DuckDB (2 threads)", 4),
                            ("numpy_gate", "gate full >= 30x numpy", 30)):
        if key in results:
            rows.append((what, results[key]["ratio_analyze"], want))
    print("\ntargets (issue 18):")
    results["targets"] = []
    for what, got, want in rows:
        if want is None:  # context, not a target
            print("  %-48s %8.1f" % (what, got))
            continue
        results["targets"].append({"target": what, "measured": got, "met": got >= want})
        print("  %-48s %8.1f  %s" % (what, got, "met" if got >= want else "MISSED by %.0f %%" % (100 * (1 - got / want))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=500, help="size of each generated input (MB)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts (a shared VM is noisy)")
    ap.add_argument("--pandas-mb", type=int, default=30, help="size of the pandas baseline input (MB)")
    ap.add_argument("--big", action="store_true", help="also replay a 2 GB DeepSeek-shaped log (memory target)")
    ap.add_argument("--live-seconds", type=int, default=10)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    results = {"machine": {"cpu": platform.processor() or "unknown", "cores": os.cpu_count(),
                           "kernel": platform.release()}, "runs": []}
    try:
        with open("/proc/cpuinfo") as f:
            results["machine"]["cpu"] = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    print("machine: %s, %d cores" % (results["machine"]["cpu"], os.cpu_count()))

    inputs = {"csv": generate("qwen3", "csv", args.mb), "gate": generate("qwen3", "gate", args.mb),
              "ndjson": generate("qwen3", "ndjson", args.mb)}
    print("\n%-8s %-9s %-8s %9s %11s %9s %8s" % ("format", "analytics", "path", "MB/s", "records/s", "RSS MB", "CPU s"))
    for fmt, path in inputs.items():
        size = os.path.getsize(path) / 1e6
        n = records_in(path)
        # Just reading the bytes: `cat` to /dev/null copies from the page cache and throws
        # them away; `cat | wc -c` hands them to another process through a pipe, as the
        # issue-18 measurement of cat did (about 2 GB/s then).
        for name, base in (("wc -l", ["wc", "-l", path]), ("cat", ["cat", path]),
                           ("cat|pipe", ["sh", "-c", 'cat "$0" | wc -c', path])):
            t, _, _ = min(run_measured(base) for _ in range(args.repeat))
            results["runs"].append({"format": fmt, "path": name, "mb_s": size / t})
            print("%-8s %-9s %-8s %9.0f %11s %9s %8.2f" % (fmt, "-", name, size / t, "-", "-", t))
        for a in SETS:
            t, rss, cpu = min(run_measured([CLI, "analyze", path, "--brief", "--analytics", a]) for _ in range(args.repeat))
            results["runs"].append({"format": fmt, "analytics": a, "path": "analyze", "mb_s": size / t,
                                    "records_s": n / t, "rss_mb": rss, "cpu_s": cpu})
            print("%-8s %-9s %-8s %9.0f %11.0f %9.0f %8.2f" % (fmt, a, "analyze", size / t, n / t, rss, cpu))
            t, rss, cpu = min(replay(path, a) for _ in range(args.repeat))
            results["runs"].append({"format": fmt, "analytics": a, "path": "daemon", "mb_s": size / t,
                                    "records_s": n / t, "rss_mb": rss, "cpu_s": cpu})
            print("%-8s %-9s %-8s %9.0f %11.0f %9.0f %8.2f" % (fmt, a, "daemon", size / t, n / t, rss, cpu))

    # The pandas baseline (what users run today) on a slice of the CSV log.
    slice_path = os.path.join(OUT, "pandas_slice.log")
    with open(inputs["csv"], "rb") as f, open(slice_path, "wb") as g:
        g.write(f.read(args.pandas_mb * 1000000).rsplit(b"\n", 1)[0] + b"\n")
    size = os.path.getsize(slice_path) / 1e6
    try:
        t, rss, cpu = run_measured(["/usr/bin/python3", os.path.join(HERE, "baseline_pandas.py"), slice_path])
        pandas_mb_s = size / t
        results["pandas"] = {"mb_s": pandas_mb_s, "rss_mb": rss, "input_mb": size}
        print("\npandas baseline (counts + imbalance, %d MB): %.1f MB/s, peak RSS %.0f MB" % (size, pandas_mb_s, rss))
    except RuntimeError:
        pandas_mb_s = None
        print("\npandas baseline skipped: run bench/setup (python3-pandas)")

    # DuckDB (bench/duckdb, installed by bench/setup) on the same CSV log, 2 threads; numpy
    # on the gate log (BENCHMARKS.md "DuckDB and numpy baselines").
    duck = os.path.join(HERE, "duckdb")
    for query in ("counts", "standard"):
        if not os.path.isdir(os.path.join(duck, "node_modules")):
            print("DuckDB baseline skipped: run bench/setup (npm)")
            break
        t, rss, _ = min(run_measured(["node", os.path.join(duck, "baseline.mjs"), inputs["csv"], "--threads", "2",
                                      "--query", query]) for _ in range(args.repeat))
        size = os.path.getsize(inputs["csv"]) / 1e6
        mine = [r for r in results["runs"] if r["format"] == "csv" and r["path"] == "analyze"
                and r.get("analytics") == query][0]
        results["duckdb_" + query] = {"mb_s": size / t, "rss_mb": rss, "ratio_analyze": mine["mb_s"] / (size / t)}
        print("DuckDB %-8s (2 threads): %.0f MB/s, peak RSS %.0f MB; analyze / DuckDB = %.1fx"
              % (query, size / t, rss, mine["mb_s"] / (size / t)))
    try:
        t, rss, _ = run_measured(["/usr/bin/python3", os.path.join(HERE, "baseline_numpy_gate.py"), inputs["gate"], "--brief"])
        size = os.path.getsize(inputs["gate"]) / 1e6
        mine = [r for r in results["runs"] if r["format"] == "gate" and r["path"] == "analyze"
                and r.get("analytics") == "full"][0]
        results["numpy_gate"] = {"mb_s": size / t, "rss_mb": rss, "ratio_analyze": mine["mb_s"] / (size / t)}
        print("numpy gate distances: %.0f MB/s, peak RSS %.0f MB; analyze (full) / numpy = %.1fx"
              % (size / t, rss, mine["mb_s"] / (size / t)))
    except RuntimeError:
        print("numpy gate baseline skipped: /usr/bin/python3 needs python3-numpy (bench/setup)")

    def best(fmt, path, a):
        return [r for r in results["runs"] if r["format"] == fmt and r["path"] == path and r.get("analytics") == a][0]

    print("\nratios (CSV, counts + EMA + co-occurrence):")
    d, an = best("csv", "daemon", "standard"), best("csv", "analyze", "standard")
    wc = [r for r in results["runs"] if r["format"] == "csv" and r["path"] == "wc -l"][0]
    if pandas_mb_s:
        print("  daemon / pandas  = %5.0fx   analyze / pandas = %5.0fx" % (d["mb_s"] / pandas_mb_s, an["mb_s"] / pandas_mb_s))
        results["ratio_daemon_pandas"] = d["mb_s"] / pandas_mb_s
    print("  daemon / wc -l   = %5.2fx   analyze / wc -l  = %5.2fx" % (d["mb_s"] / wc["mb_s"], an["mb_s"] / wc["mb_s"]))

    print_targets(results, pandas_mb_s)

    if args.big:
        path = generate("deepseek", "csv", 2000)
        t, rss, cpu = replay(path, "standard")
        results["big"] = {"mb": os.path.getsize(path) / 1e6, "seconds": t, "rss_mb": rss}
        print("\n2 GB DeepSeek-V3-shaped CSV (58 layers, 256 experts), daemon, standard: %.0f MB/s, peak RSS %.0f MB"
              % (os.path.getsize(path) / 1e6 / t, rss))

    print("\nlive tail (CSV, standard analytics, default --flush-ms 500 --poll-ms 100):")
    results["live"] = []
    for rate in (20000, 200000, 1000000):  # issue 18: 1 M records/s with < 1 s lag
        p50, worst, cpu, achieved = live_tail(rate, args.live_seconds)
        results["live"].append({"rate": rate, "achieved": achieved, "lag_p50_s": p50, "lag_max_s": worst, "cpu_pct": cpu})
        print("  %7d records/s: lag p50 %.2f s, max %.2f s; daemon CPU %.1f %% of one core" % (achieved, p50, worst, cpu))

    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("\nwritten: bench/out/results.json")


if __name__ == "__main__":
    main()
