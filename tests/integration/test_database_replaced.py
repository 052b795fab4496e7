#!/usr/bin/env python3
"""The database deleted or replaced under a running moescoped: it must not go on writing to
the unlinked file (losing everything after) or beside another database (its WAL would be
applied to the new file). It stops at the next flush with a clear error and a non-zero exit,
and the file now at the path is left intact."""
import os
import shutil
import sqlite3
import tempfile

from harness import Daemon, check, cli_json, committed_records, wait_for


def append(path, n, first=0):
    with open(path, "a") as f:
        for i in range(first, first + n):
            f.write('{"layer": %d, "experts": [%d, %d]}\n' % (i % 4, i % 8, 8 + i % 5))


def run(tmp, how):
    db, log = os.path.join(tmp, how + ".db"), os.path.join(tmp, how + ".log")
    append(log, 200)
    with Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20") as d:
        wait_for(lambda: committed_records(db) == 200, "first records committed")
        if how == "deleted":
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
        else:
            # A copy (say, a backup being restored) renamed over the live database.
            other = os.path.join(tmp, "other.db")
            src = sqlite3.connect(db)
            dst = sqlite3.connect(other)
            src.backup(dst)
            src.close()
            dst.close()
            os.rename(other, db)
        append(log, 100, 200)
        wait_for(lambda: d.proc.poll() is not None, "moescoped to stop by itself", attempts=100, delay=0.05)
        rc = d.proc.returncode
        out = d.output()
    check(rc not in (0, None), "%s database: exit %r; log:\n%s" % (how, rc, out))
    check(("was %s" % how) in out and "not committed" in out, "%s database: the log says so:\n%s" % (how, out))
    if how == "replaced":
        con = sqlite3.connect(db)
        check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "the new file is intact")
        con.close()
        check(committed_records(db) == 200, "the new file holds what it held, nothing written beside it")
    else:
        check(not os.path.exists(db), "nothing recreated at the deleted path")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        run(tmp, "deleted")
        run(tmp, "replaced")
    print("ok: a deleted or replaced database stops moescoped with a clear error")


if __name__ == "__main__":
    main()
