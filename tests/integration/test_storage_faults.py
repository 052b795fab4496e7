#!/usr/bin/env python3
"""Storage faults get a clear error and never corrupt what was committed: a database locked
by another writer, a second moescoped on the same file, a corrupt file, a full file system
(recovering when space returns), a read-only file system; and the CLI never fails with
"database is locked" while the daemon commits."""
import os
import random
import re
import urllib.request
import sqlite3
import subprocess
import tempfile
import threading
import time

from harness import MOESCOPE, MOESCOPED, Daemon, check, cli, cli_json, hits_by_layer, wait_for


def records(db):
    try:
        return sum(s["records"] for s in cli_json("--db", db, "sources")["sources"])
    except Exception:
        return -1


def write_lines(path, n, rng, tags=1):
    with open(path, "a") as f:
        for i in range(n):
            f.write('{"layer": %d, "experts": [%d, %d], "tag": "t%d"}\n' %
                    (rng.randrange(32), rng.randrange(0, 32), rng.randrange(32, 64), i % tags))


def live_records(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    return sum(float(v) for v in re.findall(r"^moescope_source_records_total\{[^}]*\} (\S+)$", text, re.M))


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path], capture_output=True)
    return r.returncode == 0


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def locked_database(tmp):
    rng = random.Random(1)
    db, log = os.path.join(tmp, "lock.db"), os.path.join(tmp, "lock.log")
    write_lines(log, 1000, rng)
    with Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20", "--metrics", ":0") as d:
        port = int(wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/", d.output()), "metrics").group(1))
        wait_for(lambda: records(db) == 1000, "first batch")
        other = sqlite3.connect(db, timeout=0.1, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        write_lines(log, 500, rng)
        # Commits wait (and fail after the busy timeout), but ingestion goes on: the live
        # counters already have the new records while the database is still locked.
        wait_for(lambda: live_records(port) == 1500, "ingestion while the database is locked")
        time.sleep(2.5)  # several failed flushes; nothing is lost
        check(d.proc.poll() is None, "the daemon survives a locked database")
        other.execute("ROLLBACK")
        other.close()
        wait_for(lambda: records(db) == 1500, "records after the lock is released", attempts=400)
        check("database is locked" in d.output(), "the lock is logged clearly")
        # A second writer is refused at once.
        p = subprocess.run([MOESCOPED, "--db", db, "--follow", log], capture_output=True, text=True, timeout=30)
        check(p.returncode == 1 and "another moescoped is already writing" in p.stderr, "second daemon: %s" % p.stderr)
        d.stop()
    print("  locked database: flushes retried, nothing lost; a second daemon is refused")


def corrupt_database(tmp):
    db = os.path.join(tmp, "corrupt.db")
    with open(db, "wb") as f:
        f.write(os.urandom(8192))
    p = subprocess.run([MOESCOPED, "--db", db, "--stdin"], input="", capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and "not a database" in p.stderr, "daemon on a corrupt file: %r" % p.stderr)
    p = cli("--db", db, "layers", expect_rc=1)
    check("not a database" in p.stderr and p.stderr.count("\n") == 1, "CLI on a corrupt file: %r" % p.stderr)
    print("  corrupt file: one clear line, exit 1")


def full_and_read_only(tmp):
    mnt = os.path.join(tmp, "small")
    if not mount_tmpfs(mnt, "2m"):
        print("  SKIP full/read-only file system: cannot mount a tmpfs here (needs root)")
        return
    try:
        rng = random.Random(2)
        db, log = os.path.join(mnt, "full.db"), os.path.join(tmp, "full.log")
        write_lines(log, 200, rng, tags=1)
        with Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20") as d:
            wait_for(lambda: records(db) == 200, "records before the disk fills")
            committed = cli_json("--db", db, "layers")
            write_lines(log, 4000, rng, tags=40)  # 40 tags x 32 layers x 64 experts of aggregates: far beyond 2 MB
            wait_for(lambda: "full" in d.output(), "the full disk to be reported", attempts=400)
            check(d.proc.poll() is None, "the daemon survives a full disk")
            # What was committed is intact and readable.
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
            check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity after ENOSPC")
            con.close()
            now = cli_json("--db", db, "layers")
            check(now["global"]["tokens"] >= committed["global"]["tokens"], "committed data still readable")
            subprocess.run(["mount", "-o", "remount,size=256m", mnt], check=True)
            wait_for(lambda: records(db) == 4200, "recovery once space returns", attempts=600)
            d.stop()
        want = cli_json("analyze", log)
        check(hits_by_layer(cli_json("--db", db, "layers")) == hits_by_layer(want), "figures after recovery")
        print("  full file system: error logged, committed data intact, recovered exactly")

        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        p = subprocess.run([MOESCOPED, "--db", db, "--follow", log], capture_output=True, text=True, timeout=30)
        check(p.returncode == 1 and "read-only file system" in p.stderr, "daemon on a read-only fs: %r" % p.stderr)
        check(cli_json("--db", db, "layers")["global"]["tokens"] == 4200, "the CLI reads a database on read-only media")
        print("  read-only file system: the daemon refuses with one clear line; the CLI still reads")
    finally:
        umount(mnt)


def queries_while_writing(tmp):
    db, log = os.path.join(tmp, "busy.db"), os.path.join(tmp, "busy.log")
    rng = random.Random(3)
    write_lines(log, 10, rng)
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            write_lines(log, 2000, rng, tags=5)
            time.sleep(0.01)

    with Daemon("--db", db, "--follow", log, "--flush-ms", "10", "--poll-ms", "5") as d:
        wait_for(lambda: records(db) >= 10, "start")
        t = threading.Thread(target=writer)
        t.start()
        failures = []
        for i in range(60):
            p = subprocess.run([MOESCOPE, "--db", db, ["layers", "experts", "cooc", "tags", "sources"][i % 5], "--json"],
                               capture_output=True, text=True, timeout=60)
            if p.returncode != 0:
                failures.append(p.stderr)
        stop.set()
        t.join()
        d.stop()
    check(not failures, "queries failed while the daemon wrote: %r" % failures[:3])
    print("  60 queries while the daemon committed every 10 ms: none failed")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        locked_database(tmp)
        corrupt_database(tmp)
        full_and_read_only(tmp)
        queries_while_writing(tmp)
    print("ok: storage faults")


if __name__ == "__main__":
    main()
