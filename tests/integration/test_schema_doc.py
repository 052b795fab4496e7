#!/usr/bin/env python3
"""docs/SCHEMA.md's notebook example, taken from the doc itself (so the doc cannot drift),
run against a database made by moescoped: its numbers equal `moescope layers --json` and
`moescope experts --json`. Needs Debian's python3-pandas (scripts/test installs it)."""
import contextlib
import io
import os
import re
import tempfile

from harness import SOURCE, check, cli_json, fail, ingest

SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
DOC = os.path.join(SOURCE, "docs", "SCHEMA.md")


def example():
    text = open(DOC).read()
    section = text[text.index("## Reading it from a notebook"):]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    check(m is not None, "SCHEMA.md has a python example under 'Reading it from a notebook'")
    return m.group(1)


def main():
    try:
        import pandas  # noqa: F401
    except ImportError:
        fail("python3-pandas is missing (scripts/test installs it)")
    code = example()
    with tempfile.TemporaryDirectory() as tmp:
        db = ingest(os.path.join(tmp, "moe.db"), [SAMPLE], 396)
        cwd = os.getcwd()
        os.chdir(tmp)  # the example opens moe.db in the current directory
        ns = {}
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, "SCHEMA.md example", "exec"), ns)
        finally:
            os.chdir(cwd)
        layers = ns["layers"]
        check("dead_experts" in out.getvalue(), "the example prints its table")

        want = cli_json("--db", db, "layers")["layers"]
        want = [l for l in want if l["tag"] == "all"]
        check(list(layers["layer"]) == [l["layer"] for l in want], "the same layers")
        for (_, row), l in zip(layers.iterrows(), want):
            for col, key in (("tokens", "tokens"), ("top_k", "top_k"), ("selections", "selections"),
                             ("dead_experts", "dead_experts"), ("max_hits", "max")):
                check(int(row[col]) == l[key], "layer %d %s: %r vs %r" % (l["layer"], col, row[col], l[key]))
            check(len(row["hits"]) == l["num_experts"], "layer %d: one value per expert" % l["layer"])
            hits = {e["expert"]: e["hits"] for e in l["experts"]}
            for e, h in hits.items():
                check(int(row["hits"][e]) == h, "layer %d expert %d hits" % (l["layer"], e))

            experts = cli_json("--db", db, "experts", "--layer", str(l["layer"]))
            ranked = experts["experts"] if "experts" in experts else experts["layers"][0]["experts"]
            for e in ranked:
                x = e["expert"]
                check(abs(row["share"][x] - e["share"]) < 1e-12, "layer %d expert %d share" % (l["layer"], x))
                check(abs(row["ema"][x] - e["ema"]) < 1e-12, "layer %d expert %d ema" % (l["layer"], x))
                check(abs(row["ema_corrected"][x] - e["ema_corrected"]) < 1e-9,
                      "layer %d expert %d ema_corrected" % (l["layer"], x))
    print("ok: the SCHEMA.md pandas example gives the numbers of moescope layers/experts")


if __name__ == "__main__":
    main()
