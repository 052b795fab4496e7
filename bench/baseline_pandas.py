#!/usr/bin/env python3
"""What users run today: the llama-server selection log read with pandas and the figures
computed with numpy, as expert_frequency.py does (per layer and global hit counts, shares),
plus the imbalance figures of docs/FIGURES.md. The whole log is held in memory.

    python3 bench/baseline_pandas.py moe_expert_selection.log
Prints the number of records and the seconds taken (for bench/run.py)."""
import sys
import time

import numpy as np
import pandas as pd


def figures(h):
    h = np.asarray(h, dtype=np.float64)
    E, S = len(h), h.sum()
    mean = S / E
    p = h[h > 0] / S
    srt = np.sort(h)
    return {"gini": np.abs(h[:, None] - h[None, :]).sum() / (2 * E * E * mean), "std": h.std(ddof=1),
            "entropy": -(p * np.log2(p)).sum(), "top10": srt[-10:].sum() / S}


def main():
    t0 = time.time()
    df = pd.read_csv(sys.argv[1])
    df = df[pd.to_numeric(df["layer_id"], errors="coerce").notna()]  # drop other log lines
    df["expert_list"] = df["expert_ids"].str.split().apply(lambda x: [int(e) for e in x])
    exploded = df[["layer_id", "expert_list"]].explode("expert_list")
    counts = exploded.groupby(["layer_id", "expert_list"]).size()
    E = int(exploded["expert_list"].max()) + 1
    out = {}
    for layer, s in counts.groupby(level=0):
        h = np.zeros(E)
        h[s.index.get_level_values(1).astype(int)] = s.values
        out[layer] = figures(h)
    glob = exploded.groupby("expert_list").size()
    print("%d records, %d layers, %.3f s" % (len(df), len(out), time.time() - t0))


if __name__ == "__main__":
    main()
