#!/usr/bin/env python3
"""An imported file is known by its content (issue 28): `import` stores the SHA-256 of each
file as its source's file_id, refuses the same bytes under another path, and `merge` refuses
two databases that imported the same file (before: merged, counting its records twice)."""
import hashlib
import os
import shutil
import sqlite3
import tempfile

from harness import SOURCE, check, cli, cli_json

SGLANG = os.path.join(SOURCE, "samples", "recorders", "sglang", "expert_distribution.json")
NDJSON = os.path.join(SOURCE, "samples", "ndjson", "routing.ndjson")


def file_ids(db):
    with sqlite3.connect(db) as c:
        return dict(c.execute("SELECT name, file_id FROM sources"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "copy_of_dump.json")  # the same bytes, as on another node
        shutil.copy(SGLANG, copy)
        a, b, c = (os.path.join(tmp, n + ".db") for n in "abc")
        cli("import", SGLANG, "--db", a)
        cli("import", copy, "--db", b)
        cli("import", NDJSON, "--db", c)
        want = "sha256:" + hashlib.sha256(open(SGLANG, "rb").read()).hexdigest()
        check(list(file_ids(a).values()) == [want], "file_id is the content's SHA-256: %r" % file_ids(a))

        # `sources` shows an import as read once, not as a stalled ingest (it showed offset 0,
        # lag = the file's size and "active").
        src = cli_json("--db", c, "sources")["sources"][0]
        check(src["kind"] == "import" and src["active"] is False and "lag_bytes" not in src,
              "an imported source: %r" % src)
        text = cli("--db", c, "sources").stdout
        block = text[text.index(NDJSON):].split("\n\n")[0]
        check("imported  read once" in block and "offset" not in block and "lag" not in block
              and "active" not in block, "sources text: no offset, lag or activity, 'imported': %r" % block)

        # The same content under another path, into the same database: refused.
        p = cli("import", copy, "--db", a, expect_rc=2)
        check("the same content is already counted as " + SGLANG in p.stderr, "import copy: " + p.stderr)

        # Two databases that imported it: refused, nothing written.
        out = os.path.join(tmp, "merged.db")
        p = cli("merge", a, b, "--out", out, expect_rc=2)
        lines = p.stderr.strip().splitlines()
        check(len(lines) == 1 and "both imported the same file" in lines[0] and copy in lines[0],
              "merge: one line naming the file: %r" % p.stderr)
        check(not os.path.exists(out), "nothing written")

        # Different files merge, and the merged database remembers both contents.
        cli("merge", a, c, "--out", out)
        check(want in file_ids(out).values(), "merged keeps the ids: %r" % file_ids(out))
        check(cli_json("--db", out, "sources")["sources"][0]["records"] > 0, "merged sources")
        # ... so merging it again with b (which imported the same file as a) is refused.
        p = cli("merge", out, b, "--out", os.path.join(tmp, "again.db"), expect_rc=2)
        check("both imported the same file" in p.stderr, "merge of a merge: " + p.stderr)
    print("ok: imports known by content; merge refuses databases that imported the same file")


if __name__ == "__main__":
    main()
