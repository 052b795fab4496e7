#!/usr/bin/env python3
"""What the data-quality policy (issue 28) costs on the CSV `standard` path: callgrind's
instructions per selection line, the marginal count between a 5 MB and a 15 MB slice (start-up
cancels out), for a binary built before the policy and one after, on the Qwen3-shaped CSV of
single-token passes and on one whose every pass is a 32-token batch (the strided-view check
looks at each batch; rows 2.. are held until the stream's verdict).
BENCHMARKS.md "Data-quality policy".

    python3 bench/quality_cost.py --before OLD_BUILD/moescope      # after = build/moescope
"""
import argparse
import os
import subprocess
import tempfile

from run import CLI, GEN, OUT
from simd_csv import per_line


def generate_batched(batch, mb):
    path = os.path.join(OUT, "qwen3_csv_batch%d_%dmb.log" % (batch, mb))
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            subprocess.run([GEN, "--shape", "qwen3", "--format", "csv", "--mb", str(mb),
                            "--batch", str(batch)], stdout=f, check=True)
        os.rename(path + ".tmp", path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="moescope binary built before the policy")
    ap.add_argument("--after", default=CLI)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    print("| input | analytics | before / line | after / line | change |")
    print("| --- | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (1, 32):
            path = generate_batched(batch, 16)
            for analytics in ("counts", "standard"):
                b, _ = per_line(args.before, path, analytics, "csv", tmp)
                a, _ = per_line(args.after, path, analytics, "csv", tmp)
                print("| csv, %s | %s | %.0f | %.0f | %+.1f %% |" %
                      ("single-token passes" if batch == 1 else "%d-token batches" % batch,
                       analytics, b, a, 100.0 * (a - b) / b), flush=True)


if __name__ == "__main__":
    main()
