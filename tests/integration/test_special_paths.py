#!/usr/bin/env python3
"""Paths that are not what they should be: --follow on a FIFO or a directory is refused at
start (exit 2, one line) instead of blocking the daemon or logging an error ten times a
second; a followed path that later becomes a FIFO is logged once and waited for without
blocking /healthz or the other sources; --db naming a directory is one clear line; the Unix
socket file is removed at exit only if it is still the daemon's own; `analyze DIR` skips a
symbolic link loop, a dangling link and a FIFO in the directory with one warning that counts
them, and reads the rest (issue 29 item 7: a loop made it exit 1)."""
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request

from harness import MOESCOPE, MOESCOPED, Daemon, check, committed_records, wait_for


def refused(args, what):
    p = subprocess.run([MOESCOPED, *args], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2, "%s: exit %d (wanted 2): %s" % (what, p.returncode, p.stderr))
    check(len(lines) == 1 and what in lines[0], "%s: one clear line, got %r" % (what, p.stderr))


def healthz(port):
    t0 = time.monotonic()
    with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=1) as r:
        ok = r.status == 200 and r.read() == b"ok\n"
    return ok and time.monotonic() - t0 < 1


def directory_with_odd_entries(tmp):
    d = os.path.join(tmp, "dumps")
    os.mkdir(d)
    with open(os.path.join(d, "a.log"), "w") as f:
        f.write('{"layer": 0, "experts": [1, 2]}\n' * 3)
    os.symlink("loop2", os.path.join(d, "loop1"))
    os.symlink("loop1", os.path.join(d, "loop2"))
    os.symlink("missing", os.path.join(d, "dangling"))
    os.mkfifo(os.path.join(d, "pipe"))
    p = subprocess.run([MOESCOPE, "analyze", d, "--json"], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    check(p.returncode == 0, "analyze DIR with a link loop: exit %d: %s" % (p.returncode, p.stderr))
    doc = json.loads(p.stdout)
    check(sum(s["records"] for s in doc["sources"]) == 3, "the regular file is read: %r" % doc["sources"])
    warnings = [l for l in p.stderr.splitlines() if "skipped" in l]
    check(len(warnings) == 1, "one warning for the directory: %r" % p.stderr)
    w = warnings[0]
    check(w.startswith("moescope: warning: %s: skipped 4 entries" % d), "the warning counts them: %r" % w)
    for what in ("loop1 (a symbolic link loop)", "loop2 (a symbolic link loop)", "dangling (a dangling symbolic link)",
                 "pipe (a FIFO)"):
        check(what in w, "the warning names %s: %r" % (what, w))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "m.db")
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo)
        refused(["--db", db, "--follow", fifo], "is a FIFO")
        refused(["--db", db, "--follow", tmp + "=t"], "is a directory")

        # --db naming a directory.
        p = subprocess.run([MOESCOPED, "--db", tmp, "--stdin"], capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        check(p.returncode != 0 and "is a directory" in p.stderr and "disk I/O" not in p.stderr,
              "--db DIR: %d %r" % (p.returncode, p.stderr))

        # A path that becomes a FIFO while the daemon waits for it: logged once, nothing blocks.
        later = os.path.join(tmp, "later.log")
        good = os.path.join(tmp, "good.log")
        with open(good, "w") as f:
            f.write('{"layer": 0, "experts": [1, 2]}\n')
        with Daemon("--db", db, "--follow", later, "--follow", good, "--metrics", ":0",
                    "--flush-ms", "50", "--poll-ms", "20") as d:
            port = int(wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/", d.output()), "metrics").group(1))
            wait_for(lambda: committed_records(db) == 1, "the good file")
            os.mkfifo(later)
            time.sleep(0.5)
            for _ in range(5):
                check(healthz(port), "/healthz answers within 1 s while a followed path is a FIFO")
            with open(good, "a") as f:
                f.write('{"layer": 0, "experts": [3, 4]}\n')
            wait_for(lambda: committed_records(db) == 2, "the other source goes on")
            out = d.output()
            check(out.count("is a FIFO") == 1, "the FIFO is logged once:\n" + out)
            check("read failed" not in out, "no read errors:\n" + out)
            d.stop()

        # The socket file is someone else's by exit time: left alone.
        sock = os.path.join(tmp, "s.sock")
        with Daemon("--db", db, "--listen", "unix:" + sock, "--flush-ms", "50") as d:
            wait_for(lambda: os.path.exists(sock) and "listening on" in d.output(), "the socket")
            os.unlink(sock)
            other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            other.bind(sock)
            other.listen(1)
            d.stop()
            check(os.path.exists(sock), "another process's socket file is not removed at exit")
            other.close()
        directory_with_odd_entries(tmp)
    print("ok: FIFOs and directories refused, a later FIFO waited for without blocking, "
          "--db DIR explained, foreign socket file kept, odd directory entries skipped with a counted warning")


if __name__ == "__main__":
    main()
