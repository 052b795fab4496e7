#!/usr/bin/env python3
"""moescoped refuses engine totals (docs/INPUTS.md "Engine recorders"): a recorder's dump
holds totals since the engine started and is rewritten in place, so a followed dump that is
rewritten twice was counted three times (found by a review: 7,784,628,224 selections after
one rewrite of SGLang's DeepSeek-V3 table, 3x after two). Each count record is one
`engine_totals` reject instead, the log says to `moescope import` the dump, nothing is
counted; per-token records in the same followed directory still count."""
import os
import shutil
import tempfile

from harness import SOURCE, Daemon, check, cli, cli_json, wait_for

SGLANG = os.path.join(SOURCE, "samples", "realdata", "sglang", "deepseek_v3_prefill_in512.json")
ROUTED = os.path.join(SOURCE, "samples", "recorders", "routed", "routed_experts.ndjson")


def source(db, name):
    return [s for s in cli_json("--db", db, "sources")["sources"] if s["source"].endswith(name)]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        dump, tok, db = (os.path.join(tmp, n) for n in ("dump.json", "tok.ndjson", "d.db"))
        with open(dump, "w") as f:
            f.write(open(SGLANG).read().rstrip("\n") + "\n")  # a complete line: the daemon reads it
        shutil.copy(ROUTED, tok)
        want_records = cli_json("sources", ROUTED)["sources"][0]["records"]
        with Daemon("--db", db, "--follow", dump, "--follow", tok, "--flush-ms", "100") as d:
            d.wait_ready()
            wait_for(lambda: (source(db, "dump.json") or [{}])[0].get("rejected", 0) > 0
                     and (source(db, "tok.ndjson") or [{}])[0].get("records", 0) == want_records,
                     "both files read", attempts=400)
            per_read = source(db, "dump.json")[0]["rejected"]  # one per layer row
            # Rewritten in place twice (tmp + rename), as SGLang's dump is; the follower reads
            # a rotated file until it is quiet (1 s) before it switches.
            for i in range(2):
                with open(dump + ".tmp", "w") as f:
                    f.write(open(SGLANG).read().rstrip("\n") + "\n")
                os.replace(dump + ".tmp", dump)
                wait_for(lambda: source(db, "dump.json")[0]["rejected"] >= (i + 2) * per_read,
                         "rewrite %d read" % (i + 1), attempts=200, delay=0.05)
            d.stop()
            log = d.output()
        s = source(db, "dump.json")[0]
        check(s["records"] == 0, "no engine totals counted: %r" % s)
        check(set(s["rejects"]) == {"engine_totals"} and s["rejected"] == 3 * per_read,
              "only engine_totals rejects, one per layer row and read: %r" % s["rejects"])
        check(s["rejects"]["engine_totals"]["samples"][0].startswith("totals of layer "),
              "the sample names the layer, not the document's first bytes: %r" % s["rejects"])
        check("engine_totals" in log and "moescope import" in log, "the log names the fix:\n" + log)
        tags = {t["tag"]: t for t in cli_json("--db", db, "tags")["tags"]}
        summary = cli_json("--db", db, "summary")["summary"]
        routed = cli_json("summary", ROUTED)["summary"]
        check(summary["selections"] == routed["selections"] and summary["tokens"] == routed["tokens"],
              "only the per-token records count: %r vs %r (tags %r)" % (summary["selections"], routed["selections"], list(tags)))
        # import is the way: the dump's totals, once.
        imp = os.path.join(tmp, "i.db")
        cli("import", dump, "--db", imp)
        check(cli_json("--db", imp, "summary")["summary"]["selections"] == cli_json("summary", SGLANG)["summary"]["selections"],
              "import counts the dump once")
    print("ok: moescoped refuses engine totals (engine_totals rejects, the log says import), a rewritten "
          "dump is not added up, per-token records count")


if __name__ == "__main__":
    main()
