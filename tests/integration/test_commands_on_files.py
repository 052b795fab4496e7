"""Every query command answers on log files exactly as on a daemon's database and as
`analyze` does: `moescope CMD FILE... --json` == `moescope --db DB CMD --json` (the daemon
fed the same files) and each JSON section equals the section of the same name in
`analyze --json`. The command list comes from `moescope --help`, so a new command is
covered without editing this test."""
import json
import os
import re
import tempfile

from harness import SOURCE, check, cli, cli_json, ingest, same

NDJSON = os.path.join(SOURCE, "samples/ndjson/routing.ndjson")
LLAMA = os.path.join(SOURCE, "samples/llama_server/moe_expert_selection.log")
NOT_QUERIES = {"analyze", "report", "merge", "weights", "import", "formats"}
# Options that make a command show more than its default view.
EXTRA = {"compare": ["--tag", "code", "--vs", "math"], "cooc": ["--layer", "1"], "logits": ["--layer", "0"],
         "place": ["--gpus", "1"], "prune": ["--keep", "3"], "cache": ["--capacity", "4"],
         "kde": ["--fit", "code", "--test", "math"]}
# Decision commands print their own `layers` (not analyze's); cache needs the recorded
# sequence, which only FILE arguments have (tests/integration/test_decisions.py).
OWN_SECTIONS = {"coverage", "prune", "cache", "kde"}
FILES_ONLY = {"cache", "kde"}
# Commands that follow single tokens: FILE arguments only, since a database keeps totals
# (one line, exit 3); their figures are checked in test_tracing_reference.py.
TOKENS = {"diff", "requests", "positions", "affinity"}


def known_on_db(on_files, on_db):
    """prune's token fractions and place's all-to-all fan-out come from the tokens on files;
    a database gives them only where they are exact from its totals (top-2) and null
    elsewhere."""
    def strip(doc, ref):
        if isinstance(doc, dict):
            return {k: strip(v, ref.get(k) if isinstance(ref, dict) else None) for k, v in doc.items()
                    if k != "token_fractions_from" and not (k.startswith(("tokens_", "fanout_")) and isinstance(ref, dict) and ref.get(k) is None)}
        if isinstance(doc, list):
            return [strip(d, r) for d, r in zip(doc, ref)] if isinstance(ref, list) else doc
        return doc
    return strip(on_files, on_db), strip(on_db, on_db)


def query_commands():
    text = cli("--help").stdout
    names = re.findall(r"^  (\w+)\s{2,}", text.split("Subcommands:")[1], re.M)
    check(len(names) >= 10, "help lists the subcommands: %r" % names)
    return [n for n in names if n not in NOT_QUERIES]


def without_sources(doc):
    return {k: v for k, v in doc.items() if k != "sources"}


def main():
    commands = query_commands()
    with tempfile.TemporaryDirectory() as tmp:
        for files, records in (([NDJSON], 120), ([LLAMA], 396)):
            db = ingest(os.path.join(tmp, os.path.basename(files[0]) + ".db"), files, records)
            whole = cli_json("analyze", *files)
            for cmd in commands:
                if cmd in ("timeline", "drift"):
                    continue  # the samples carry no timestamps: the daemon times by arrival
                extra = EXTRA.get(cmd, [])
                if cmd in TOKENS:
                    args = files * 2 if cmd == "diff" else files  # diff: the log against itself
                    p = cli("--db", db, cmd, expect_rc=3)
                    check(p.stderr.count("\n") == 1, "%s on a database: one line" % cmd)
                    if cmd == "requests" and files[0] == LLAMA:
                        cli(cmd, *args, expect_rc=3)  # llama-server logs name no requests
                        continue
                    check(cli_json(cmd, *args), "%s printed an empty document" % cmd)
                    check(cli(cmd, *args).stdout.strip() != "", "%s text on files" % cmd)
                    check(cli(cmd, *args, "--csv").stdout.count("\n") >= 1, "%s CSV on files" % cmd)
                    continue
                if cmd == "compare" and files[0] != NDJSON:
                    # No tags in the llama-server log: nothing to compare (exit 3), not all vs all.
                    cli(cmd, *files, expect_rc=3)
                    cli("--db", db, cmd, expect_rc=3)
                    continue
                if cmd == "kde" and files[0] != NDJSON:
                    cli(cmd, *files, *extra, expect_rc=3)  # no tags to fit in the llama-server log
                    continue
                on_files = cli_json(cmd, *files, *extra)
                if cmd in FILES_ONLY:
                    cli("--db", db, cmd, *extra, expect_rc=2)
                    on_db = on_files
                else:
                    on_db = cli_json("--db", db, cmd, *extra)
                if cmd in ("prune", "place"):
                    on_files, on_db = known_on_db(on_files, on_db)
                if cmd == "sources":
                    check(on_files["sources"][0]["records"] == records, "sources on files")
                    check(on_db["sources"][0]["records"] == records, "sources on the database")
                    continue
                # A database's records were counted under moescoped's policy ("as stored").
                for doc in (on_files, on_db):
                    doc.get("quality", {}).pop("policy", None)
                # --threads (every core) reads the files in chunks: EMAs equal to 1e-12.
                same(on_files, on_db, "%s on %s: files vs database" % (cmd, files[0]))
                check(on_files, "%s printed an empty document" % cmd)
                if not extra and cmd not in OWN_SECTIONS:
                    for key, section in on_files.items():
                        if key in whole:
                            want = whole[key]
                            if key == "quality":  # its policy was popped above
                                want = {k: v for k, v in want.items() if k != "policy"}
                            if cmd == "experts":  # lists --top/--bottom experts only
                                section = {k: v for k, v in section.items() if k != "experts"}
                                want = {k: v for k, v in want.items() if k != "experts"}
                            check(section == want, "%s: section %s differs from analyze" % (cmd, key))
                # The text and CSV forms run on files too.
                check(cli(cmd, *files, *extra).stdout.strip() != "", "%s text on files" % cmd)
                check(cli(cmd, *files, *extra, "--csv").stdout.count("\n") >= 1, "%s CSV on files" % cmd)
            # Options of the analysis reach the file analysis: a different decay changes the EMA.
            a = cli_json("experts", *files, "--ema-decay", "0.5")["global"]["experts"][0]["ema"]
            b = cli_json("experts", *files)["global"]["experts"][0]["ema"]
            check(a != b, "--ema-decay applies to FILE arguments")
    # A missing file is one line naming it, exit 1.
    p = cli("layers", "/nonexistent/x.log", expect_rc=1)
    check(p.stderr.count("\n") == 1 and "/nonexistent/x.log" in p.stderr, "missing file: %r" % p.stderr)
    print("ok: %d query commands on files == database == analyze" % len(commands))


if __name__ == "__main__":
    main()
