#!/usr/bin/env python3
"""`--db DIR` is one clear line (issue 28): the queries and `import` said "disk I/O error"
(SQLite's view of a directory); now they say it is a directory, exit 1, as moescoped does."""
import os
import tempfile

from harness import SOURCE, check, cli

NDJSON = os.path.join(SOURCE, "samples/ndjson/routing.ndjson")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for args in (["--db", tmp, "layers"], ["--db", tmp, "summary", "--json"],
                     ["import", NDJSON, "--db", tmp]):
            p = cli(*args, expect_rc=None)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 1, "%s: exit %d (wanted 1): %s" % (args, p.returncode, p.stderr))
            check(len(lines) == 1 and tmp + " is a directory" in lines[0] and "disk I/O" not in p.stderr,
                  "%s: one line saying it is a directory, got %r" % (args, p.stderr))
        check(os.listdir(tmp) == [], "nothing was written into the directory")
    print("ok: --db DIR says it is a directory")


if __name__ == "__main__":
    main()
