#!/usr/bin/env python3
"""Input that is not recognised says so (issue 28). A file in which no format recognises a
record (Markdown, a JSON object of another shape, an empty file) and a directory without any
log exit 3 with one line naming what was found and the formats tried; before, every command
printed "no routing records" and exited 0. Beside a readable file, such a file is one
warning line and the rest is analysed."""
import json
import os
import tempfile

from harness import SOURCE, check, cli

NDJSON = os.path.join(SOURCE, "samples/ndjson/routing.ndjson")


def refused(args, *want):
    p = cli(*args, expect_rc=None)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 3, "%s: exit %d (wanted 3): %s" % (args, p.returncode, p.stderr))
    check(len(lines) == 1, "%s: one line, got %r" % (args, p.stderr))
    for w in want:
        check(w in lines[0], "%s: %r not in %r" % (args, w, lines[0]))
    return lines[0]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        md = os.path.join(tmp, "notes.md")
        open(md, "w").write("# Routing notes\n\nNothing to see.\n")
        empty = os.path.join(tmp, "empty.log")
        open(empty, "w").close()
        other = os.path.join(tmp, "popularity.json")
        json.dump({"total_input_tokens": 3151, "expert_popularity": [[1, 2], [3, 4]]}, open(other, "w"))
        docs = os.path.join(tmp, "docs")
        os.mkdir(docs)
        for n in ("a.md", "b.txt"):
            open(os.path.join(docs, n), "w").write("text\n")
        nothing = os.path.join(tmp, "nothing")
        os.mkdir(nothing)

        tried = "formats tried: sglang-json lmdeploy-json"
        for cmd in (["layers"], ["analyze"], ["summary", "--json"]):
            refused(cmd + [md], md + ": no record recognised in 3 lines of text, the first \"# Routing notes\"", tried)
        refused(["layers", empty], empty + ": no record recognised in an empty file", tried)
        line = refused(["analyze", other], 'a JSON object with keys "total_input_tokens", "expert_popularity"',
                       "; rejected ", "--format counts-json --counts-key KEY")
        check(" ndjson " in line and "imatrix-gguf" in line and "eval-callback" in line, "every format named: " + line)
        refused(["layers", docs], docs + ": no log among its 2 files (a.md, b.txt)", tried)
        refused(["layers", nothing], nothing + ": an empty directory")
        refused(["layers", "--format", "ndjson", md], "(read as --format ndjson)")
        db = os.path.join(tmp, "x.db")
        refused(["import", md, "--db", db], md + ": no record recognised")

        # Beside a log: one warning line, the log's figures as alone.
        p = cli("layers", NDJSON, md, "--json")
        lines = p.stderr.strip().splitlines()
        check(len(lines) == 1 and lines[0].startswith("moescope: warning: " + md), "warning: %r" % p.stderr)
        alone = json.loads(cli("layers", NDJSON, "--json").stdout)
        check(json.loads(p.stdout)["layers"] == alone["layers"], "the log's figures unchanged")
    print("ok: unrecognised files and directories exit 3 with what was found and the formats tried")


if __name__ == "__main__":
    main()
