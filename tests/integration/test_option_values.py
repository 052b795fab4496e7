#!/usr/bin/env python3
"""Options that take several values are repeated or comma-separated, never greedy (issue 28):
for every command, each such option (read from the command's --help) given twice and then
followed by FILE arguments leaves the files as files. Before the fix `prune --tag T FILE`
took FILE as another tag and then looked for moescope.db."""
import os
import re
import tempfile

from harness import SOURCE, check, cli, cli_json

NDJSON = os.path.join(SOURCE, "samples/ndjson/routing.ndjson")
# Commands whose FILE is not a log: `weights` reads a model (here it fails on the log, which
# shows the log was taken as its FILE, not as an option value).
NOT_LOGS = {"weights"}
# A value each multi-value option accepts on the sample (tags of routing.ndjson).
VALUES = {"--tag": ["code", "math"], "--periodic": ["1", "2"],
          "--fail-on": {"compare": ["js>0.99", "p<1e-300"], "drift": ["js>0.99", "p<1e-300"],
                        "kde": ["ks>0.99", "ks>0.999"], "diff": ["overlap<0.001", "top1<0.001"]}}
# What a command needs besides the option to read the sample (diff: a second run, the
# sample against itself).
EXTRA = {"prune": ["--keep", "3"], "kde": ["--fit", "code", "--test", "math"],
         "drift": ["--tag", "code", "--baseline", "math"], "diff": [NDJSON]}
# Exits that show the FILE was read (the sample has no timestamps: drift has no windows; its
# tags have 14 tokens a layer, too few to judge: a compare gate cannot apply, exit 2).
READ_BUT_EMPTY = {"drift": (3, "needs timed records"), "compare": (2, "so the gate cannot apply")}


def commands():
    text = cli("--help").stdout
    return re.findall(r"^  (\w+)\s{2,}", text.split("Subcommands:")[1], re.M)


def multi_value_options(cmd):
    """Options whose help shows a value list (CLI11 prints `TYPE ...`)."""
    text = cli(cmd, "--help").stdout
    return sorted(set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+) [^\n]*? \.\.\.(?:\s|$)", text, re.M)))


def main():
    seen = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # no moescope.db here: a FILE taken as an option value fails loudly
        for cmd in commands():
            for opt in multi_value_options(cmd):
                seen.setdefault(opt, []).append(cmd)
                check(opt in VALUES, "%s %s: add a value for this option to the test" % (cmd, opt))
                a, b = VALUES[opt][cmd] if isinstance(VALUES[opt], dict) else VALUES[opt]
                extra = EXTRA.get(cmd, [])
                for form in ([opt, a, opt, b], [opt, a + "," + b]):
                    p = cli(cmd, *extra, *form, NDJSON, "--json", expect_rc=None)
                    rc, why = READ_BUT_EMPTY.get(cmd, (None, None))
                    ok = p.returncode == 0 or (cmd in NOT_LOGS and NDJSON in p.stderr) or \
                        (p.returncode == rc and why in p.stderr)
                    check(ok, "%s %s then FILE: exit %d: %s" % (cmd, " ".join(form), p.returncode, p.stderr))
                    check("moescope.db" not in p.stderr, "%s: FILE taken as a value" % cmd)
        check("prune" in seen.get("--tag", []), "prune --tag takes several tags: %s" % seen)
        check("corr" in seen.get("--periodic", []), "corr --periodic takes several: %s" % seen)

        # The planned-for tags are both tags, and the file was read.
        doc = cli_json("prune", "--keep", "3", "--tag", "code", "--tag", "math", NDJSON)
        check(doc["planned_for"] == ["code", "math"], "planned_for %r" % doc["planned_for"])
        doc = cli_json("prune", "--keep", "3", "--tag", "code,math", NDJSON)
        check(doc["planned_for"] == ["code", "math"], "comma form: %r" % doc["planned_for"])
    print("ok: multi-value options %s are repeated or comma-separated, FILE arguments stay files"
          % sorted(seen))


if __name__ == "__main__":
    main()
