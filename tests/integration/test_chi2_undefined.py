#!/usr/bin/env python3
"""`compare` on count-only data (issue 28): engine totals carry no top-1 counts, so the
top-1 chi-square is undefined; its degrees of freedom were printed as 0 beside a null
statistic. Now statistic, dof and p-value are null together (JSON) and empty (CSV); and
for engine totals the selections test is not given either (their selections are not
independent draws: docs/FIGURES.md "Count-only data"), the verdict rests on JS."""
import csv
import io
import os

from harness import SOURCE, check, cli, cli_json

SGLANG = os.path.join(SOURCE, "samples", "recorders", "sglang", "expert_distribution.json")
REAL = os.path.join(SOURCE, "samples", "realdata", "sglang", "deepseek_v3_prefill_in512.json")


def main():
    args = ["compare", SGLANG + "=a", REAL + "=b", "--tag", "a", "--vs", "b"]
    rows = cli_json(*args)["compare"]
    check(len(rows) > 0, "layers compared")
    for r in rows:
        check(r["top1_chi2"] is None and r["top1_chi2_dof"] is None and r["top1_chi2_p_value"] is None,
              "layer %s: top-1 test null together: %r %r %r" %
              (r["layer"], r["top1_chi2"], r["top1_chi2_dof"], r["top1_chi2_p_value"]))
        check(r["chi2"] is None and r["chi2_dof"] is None and r["chi2_p_value"] is None,
              "selections test not given for engine totals: %r" % r["chi2_dof"])
        check(r["verdict"] in ("same", "differs") and not r["sampled"], "judged by JS: %r" % r["verdict"])
    for r in csv.DictReader(io.StringIO(cli(*args, "--csv").stdout)):
        check(r["top1_chi2_p_value"] == "" and r["chi2_dof"] == "" and r["verdict"], "CSV: %r" % r)
    print("ok: an undefined top-1 chi-square is null with its degrees of freedom")


if __name__ == "__main__":
    main()
