#!/usr/bin/env python3
"""moescoped follows a llama-server log written in uneven chunks (a line split across two
writes), survives a server restart (truncation + new header), and the CLI's figures equal
`moescope analyze` on the same content."""
import os
import random
import subprocess
import sys
import tempfile

from harness import Daemon, check, cli, cli_json, hits_by_layer, wait_for, SOURCE, fail

SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


def records_in_db(db):
    doc = cli_json("--db", db, "sources")
    return sum(s["records"] for s in doc["sources"])


def main():
    content = open(SAMPLE, "rb").read()
    lines = content.split(b"\n")
    run1 = b"\n".join(lines[:350]) + b"\n"         # first server run
    run2 = b"\n".join(lines[350:]).rstrip(b"\n") + b"\n"  # after the restart
    run2 = b"layer_id,expert_ids\n" + run2 if not run2.startswith(b"layer_id") else run2

    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "moe_expert_selection.log")
        db = os.path.join(tmp, "moe.db")
        with Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20") as d:
            # The file does not exist yet when the daemon starts.
            rng = random.Random(7)
            pos = 0
            while pos < len(run1):  # uneven chunks: lines split across writes
                n = rng.randint(1, 900)
                append(log, run1[pos:pos + n])
                pos += n
            # A line split across two writes, with a flush in between.
            append(log, b"2,1 2 3")
            n_run1 = run1.count(b"\n") and sum(1 for l in run1.split(b"\n") if l[:1].isdigit())
            wait_for(lambda: records_in_db(db) == n_run1, "run 1 records in the database")
            append(log, b" 4\n")
            wait_for(lambda: records_in_db(db) == n_run1 + 1, "the completed split line")

            # Server restart: the file is truncated, then the header is rewritten lazily.
            with open(log, "wb"):
                pass
            wait_for(lambda: cli_json("--db", db, "sources")["sources"][0]["restarts"] >= 1, "truncation seen")
            pos = 0
            while pos < len(run2):
                n = rng.randint(1, 5000)
                append(log, run2[pos:pos + n])
                pos += n
            n_run2 = sum(1 for l in run2.split(b"\n") if l[:1].isdigit())
            wait_for(lambda: records_in_db(db) == n_run1 + 1 + n_run2, "run 2 records")
            d.stop()

        # The same content, as one file, analyzed without a daemon.
        whole = os.path.join(tmp, "whole.log")
        with open(whole, "wb") as f:
            f.write(run1 + b"2,1 2 3 4\n" + run2)
        want = cli_json("analyze", whole)
        got = cli_json("--db", db, "layers")
        check(hits_by_layer(got) == hits_by_layer(want), "per-layer, per-expert hits differ from analyze")
        for key in ("tokens", "selections", "gini", "entropy_bits", "std", "cv", "median"):
            for a, b in zip(got["layers"], want["layers"]):
                check(a[key] == b[key], "layer %s %s: daemon %r, analyze %r" % (a["layer"], key, a[key], b[key]))
        check(got["global"]["selections"] == want["global"]["selections"], "global selections differ")
        # EMA follows the record order, which is the same: values agree closely.
        for a, b in zip(got["layers"], want["layers"]):
            ea = {e["expert"]: e["ema"] for e in a["experts"]}
            eb = {e["expert"]: e["ema"] for e in b["experts"]}
            for e in ea:
                check(abs(ea[e] - eb[e]) <= 1e-12 + 1e-9 * abs(eb[e]), "EMA of expert %d differs" % e)
        gates_db = cli_json("--db", db, "gates")["gate_pairs"]
        gates_an = want["gate_pairs"]
        check(len(gates_db) == len(gates_an) > 0, "gate pair lists differ")
        for a, b in zip(gates_db, gates_an):
            check(a["count"] == b["count"], "gate pair counts differ")
            check(abs(a["cosine_similarity"]["mean"] - b["cosine_similarity"]["mean"]) < 1e-12, "gate means differ")
        # Text and CSV views print the same numbers.
        text = cli("--db", db, "experts", "--layer", "3", "--top", "3").stdout
        top = want["layers"][3]["experts"][0]
        check(" %d " % top["hits"] in text, "experts table lacks the top hit count")
        p = cli("--db", db, "layers", "--layer", "99", expect_rc=3)
        check(p.stderr == "moescope: no records for layer 99 in tag 'all' (layers 0 to 5)\n", "unknown layer: %r" % p.stderr)
        csv = cli("--db", db, "layers", "--csv").stdout.splitlines()
        check(csv[0].startswith("tag,layer,scope,tokens,selections"), "CSV header")
        check(len(csv) == 1 + len(want["layers"]) + 1, "CSV has one row per layer plus all")
    print("ok: daemon tail == analyze")


if __name__ == "__main__":
    main()
