#!/usr/bin/env python3
"""The CLI reads a database it may not write (issue 29 item 6). The usual service setup:
moescoped runs as its own user, the database directory is writable only by it, readers are
in its group. Such a reader runs queries while the daemon commits (SQLite's read-only -shm)
and after it stopped (no -wal/-shm left: the file is read as immutable, once no writer holds
it); a reader who cannot read the -shm file gets one line naming the group it needs (exit 1).
Before, the first failed with "unable to open database file" and the second with "attempt
to write a readonly database".
Run as root (CI), the readers are `nobody` via setpriv, with or without the files' group;
run as another user, chmod takes the permissions away instead. Skips only when neither can
be done."""
import grp
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from harness import MOESCOPE, SOURCE, Daemon, check, cli, cli_json, wait_for

LOG = os.path.join(SOURCE, "samples", "ndjson", "routing.ndjson")
NOBODY = 65534


class Reader:
    """Runs moescope as a user who cannot write the database's directory."""

    def __init__(self, tmp, data):
        self.data = data
        self.root = os.geteuid() == 0
        self.binary = MOESCOPE
        if self.root:
            if not shutil.which("setpriv"):
                self.skip = "setpriv is missing"
                return
            if not self.run_as(["true"], groups=[]).returncode == 0:
                self.skip = "cannot run as uid %d" % NOBODY
                return
            if self.run_as(["test", "-x", MOESCOPE], groups=[]).returncode != 0:
                # The build tree may be private to root: a copy nobody can run.
                self.binary = os.path.join(tmp, "moescope")
                shutil.copy(MOESCOPE, self.binary)
                os.chmod(self.binary, 0o755)
        self.skip = ""

    def run_as(self, argv, groups):
        ids = ["--reuid", str(NOBODY), "--regid", str(NOBODY)]
        ids += ["--groups", ",".join(map(str, groups))] if groups else ["--clear-groups"]
        return subprocess.run(["setpriv", *ids, *argv], capture_output=True, text=True, timeout=120)

    def moescope(self, *args, in_group=True):
        """moescope as a reader in the database files' group (or not)."""
        if self.root:
            gid = os.stat(os.path.join(self.data, "moe.db")).st_gid
            return self.run_as([self.binary, *args], groups=[gid] if in_group else [])
        return subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=120)

    def forbid(self):
        """Takes write permission on the directory away from the reader."""
        if not self.root:
            os.chmod(self.data, 0o555)

    def allow(self):
        os.chmod(self.data, 0o755)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        data = os.path.join(tmp, "data")
        os.mkdir(data, 0o755)
        reader = Reader(tmp, data)
        if reader.skip:
            print("SKIP: no unprivileged reader: " + reader.skip)
            return
        db = os.path.join(data, "moe.db")
        n = sum(s["records"] for s in cli_json("analyze", LOG)["sources"])
        with Daemon("--db", db, "--follow", LOG, "--flush-ms", "50") as d:
            wait_for(lambda: sum(s["records"] for s in cli_json("--db", db, "sources")["sources"]) == n,
                     "the sample committed")
            want = cli("--db", db, "layers", "--json").stdout
            check(os.path.exists(db + "-shm") and os.path.exists(db + "-wal"), "the daemon keeps -wal and -shm")
            reader.forbid()
            try:
                # While moescoped runs: read-only through its -shm.
                p = reader.moescope("--db", db, "layers", "--json")
                check(p.returncode == 0, "a reader in the group while moescoped runs: exit %d: %s"
                      % (p.returncode, p.stderr))
                check(p.stdout == want, "the reader sees what the owner sees")

                # A reader who cannot read the -shm: one line naming the file and the group.
                shm_mode = stat.S_IMODE(os.stat(db + "-shm").st_mode)
                if reader.root:
                    os.chmod(db, 0o644)  # the database itself is readable; its -shm is not
                else:
                    os.chmod(db + "-shm", 0)
                p = reader.moescope("--db", db, "layers", in_group=False)
                group = grp.getgrgid(os.stat(db + "-shm").st_gid).gr_name
                lines = p.stderr.strip().splitlines()
                check(p.returncode == 1 and len(lines) == 1, "unreadable -shm: exit %d, %r" % (p.returncode, p.stderr))
                check(db + "-shm" in lines[0] and "group " + group in lines[0],
                      "the message names the -shm file and group %s: %r" % (group, lines[0]))
                os.chmod(db, 0o640)
                os.chmod(db + "-shm", shm_mode)
            finally:
                reader.allow()
            d.stop()

        # After moescoped stopped: no -wal/-shm, and the reader cannot create them.
        check(not os.path.exists(db + "-shm"), "a clean stop removes the -shm file")
        queries = (["layers", "--json"], ["sources", "--json"], ["summary", "--json"])
        reader.forbid()
        try:
            seen = []
            for query in queries:
                p = reader.moescope("--db", db, *query)
                check(p.returncode == 0, "%s after moescoped stopped: exit %d: %s" % (query, p.returncode, p.stderr))
                seen.append(p.stdout)
            check(sorted(os.listdir(data)) == ["moe.db"], "the reader created nothing: %r" % os.listdir(data))
        finally:
            reader.allow()
        for query, out in zip(queries, seen):
            check(out == cli("--db", db, *query).stdout, "%s: the reader sees what the owner sees" % query)
    print("ok: a reader who cannot write the directory queries the database while moescoped runs and after; "
          "an unreadable -shm names the group")


if __name__ == "__main__":
    sys.exit(main())
