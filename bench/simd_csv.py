#!/usr/bin/env python3
"""The SIMD selection-line scanner and gate-float fast path (issue 18), measured with the
real binaries: `moescope analyze FILE --json --analytics A --threads T` on the Qwen3-shaped
selection CSV and gate logs, best of 3 wall times, the two binaries interleaved run by run
(the VM's load drifts); instructions per line from callgrind (the marginal count between a
5 MB and a 15 MB slice, so start-up cancels out, and the parser function's own inclusive
count); and DuckDB's counts query on the same CSV (bench/duckdb, installed by bench/setup).
BENCHMARKS.md "SIMD CSV scanner and gate floats".

    python3 bench/simd_csv.py --before OLD_BUILD/moescope          # after = build/moescope
    python3 bench/simd_csv.py --before OLD --no-timing --no-callgrind --no-duckdb --micro
"""
import argparse
import os
import re
import subprocess
import tempfile

from run import BUILD, CLI, HERE, OUT, ROOT, generate, run_measured

# The parser's own instructions: the self cost of these functions (and what is inlined into
# them), not their inclusive cost, which includes the counting the sink does for each record.
PARSERS = {"csv": ("LlamaCsvParser::parse_selection(", "moe::scan_selection("),
           "gate": ("LlamaCsvParser::parse_gate(", "parse_float_list<")}


def best_of_3(binaries, path, analytics, threads):
    """Best wall seconds and the CPU seconds of that run, per binary, runs interleaved."""
    best = {b: (1e9, 0) for b in binaries}
    for _ in range(3):
        for b in binaries:
            wall, _, cpu = run_measured(
                [b, "analyze", path, "--json", "--analytics", analytics, "--threads", str(threads)])
            best[b] = min(best[b], (wall, cpu))
    return best


def slice_of(path, mb, tmp):
    out = os.path.join(tmp, "%s_%dmb.log" % (os.path.basename(path), mb))
    with open(path, "rb") as f, open(out, "wb") as g:
        data = f.read(mb * 1000 * 1000)
        g.write(data[:data.rfind(b"\n") + 1])
    return out


def lines_of(path, prefix):
    with open(path, "rb") as f:
        return sum(1 for line in f if line.startswith(prefix))


def callgrind(binary, path, analytics, fmt, tmp):
    """(total instructions, the parser functions' self instructions)."""
    out = os.path.join(tmp, "cg.out")
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, binary,
                          "analyze", path, "--brief", "--analytics", analytics, "--threads", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    total = int(re.search(r"Collected : (\d+)", run.stderr).group(1))
    ann = subprocess.run(["callgrind_annotate", "--threshold=100", out], capture_output=True,
                         text=True, check=True).stdout
    parser = 0
    for line in ann.splitlines():
        if any(name in line for name in PARSERS[fmt]) and "=>" not in line:
            parser += int(line.split()[0].replace(",", ""))
    return total, parser


def per_line(binary, path, analytics, fmt, tmp):
    """Marginal instructions per line between two slices, and the parser's per line."""
    prefix = b"gate_input" if fmt == "gate" else tuple(bytes([c]) for c in b"0123456789")
    small, large = slice_of(path, 5, tmp), slice_of(path, 15, tmp)
    n_small, n_large = lines_of(small, prefix), lines_of(large, prefix)
    (t_small, p_small), (t_large, p_large) = (callgrind(binary, s, analytics, fmt, tmp)
                                              for s in (small, large))
    n = n_large - n_small
    return (t_large - t_small) / n, (p_large - p_small) / n


def duckdb_counts(path):
    script = os.path.join(HERE, "duckdb", "baseline.mjs")
    return min(run_measured(["node", script, path, "--threads", "2", "--query", "counts"])[0]
               for _ in range(3))


def micro(csv, gate, tmp):
    """bench/micro_parsers.cpp: the parsers alone, scalar against SIMD, on 40 MB of each."""
    exe = os.path.join(tmp, "micro_parsers")
    subprocess.run(["g++", "-O3", "-march=x86-64-v2", "-std=c++20", "-I" + ROOT,
                    os.path.join(HERE, "micro_parsers.cpp"), os.path.join(BUILD, "libmoe_parsers.a"),
                    os.path.join(BUILD, "libmoe_models.a"), "-lsimdjson", "-o", exe], check=True)
    print(subprocess.run([exe, slice_of(csv, 40, tmp), slice_of(gate, 40, tmp)],
                         capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="moescope binary built before the change")
    ap.add_argument("--after", default=CLI)
    ap.add_argument("--csv-mb", type=int, default=160)
    ap.add_argument("--gate-mb", type=int, default=400)
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--micro", action="store_true", help="also the parsers alone (needs g++)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    csv = generate("qwen3", "csv", args.csv_mb)
    gate = generate("qwen3", "gate", args.gate_mb)
    binaries = (args.before, args.after)

    if not args.no_timing:
        print("| input | analytics | threads | before s (MB/s) | after s (MB/s) | after CPU s |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for name, path, sets in (("csv", csv, ("counts", "standard")),
                                 ("gate", gate, ("counts", "standard", "full"))):
            mb = os.path.getsize(path) / 1e6
            for analytics in sets:
                for threads in (1, 2):
                    r = best_of_3(binaries, path, analytics, threads)
                    (wb, _), (wa, ca) = r[args.before], r[args.after]
                    print("| %s %d MB | %s | %d | %.2f (%.0f) | %.2f (%.0f) | %.2f |" %
                          (name, mb, analytics, threads, wb, mb / wb, wa, mb / wa, ca), flush=True)

    if not args.no_callgrind:
        print("\n| input | analytics | binary | instructions / line | of which the parser |")
        print("| --- | --- | --- | ---: | ---: |")
        with tempfile.TemporaryDirectory() as tmp:
            for fmt, path in (("csv", csv), ("gate", gate)):
                for analytics in ("counts", "standard"):
                    for label, b in (("before", args.before), ("after", args.after)):
                        total, parser = per_line(b, path, analytics, fmt, tmp)
                        print("| %s | %s | %s | %.0f | %.0f |" % (fmt, analytics, label, total,
                                                                parser), flush=True)

    if args.micro:
        with tempfile.TemporaryDirectory() as tmp:
            micro(csv, gate, tmp)

    if not args.no_duckdb:
        print("\nDuckDB counts, 2 threads, best of 3: %.2f s" % duckdb_counts(csv))


if __name__ == "__main__":
    main()
