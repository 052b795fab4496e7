#!/usr/bin/env python3
"""What moescoped exposes on the host: listeners bind loopback unless an address is written
out (and say so in the log), an allowed unprotected non-loopback bind is a logged warning, the Unix socket and
database files have restrictive modes, the CLI never writes the database, and hostile
strings in records cannot reach SQL as code."""
import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import tempfile

from harness import MOESCOPED, Daemon, check, cli, cli_json, wait_for


def local_non_loopback_ip():
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent: only picks a route
            ip = s.getsockname()[0]
            return None if ip.startswith("127.") else ip
    except OSError:
        return None


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "sec.db")
        sock = os.path.join(tmp, "moe.sock")
        with Daemon("--db", db, "--listen", "tcp://:0", "--listen", "unix:" + sock, "--flush-ms", "50") as d:
            m = wait_for(lambda: re.search(r"listening on tcp://127\.0\.0\.1:(\d+) \(loopback only\)", d.output()),
                         "the loopback listener in the log")
            port = int(m.group(1))
            ip = local_non_loopback_ip()
            if ip:
                try:
                    socket.create_connection((ip, port), timeout=2).close()
                    check(False, "the default listener must not accept on %s" % ip)
                except OSError:
                    pass
            wait_for(lambda: os.path.exists(sock), "socket")
            check(stat.S_IMODE(os.stat(sock).st_mode) == 0o660, "Unix socket mode 0660")
            hostile = "x'); DROP TABLE layer_stats; --"
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall((json.dumps({"layer": 0, "experts": [1, 2], "tag": hostile}) + "\n").encode())
            wait_for(lambda: any(t["tag"] == hostile for t in cli_json("--db", db, "tags")["tags"]), "the hostile tag")
            d.stop()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                check(stat.S_IMODE(os.stat(db + suffix).st_mode) & 0o007 == 0, "%s%s is not world-accessible" % (db, suffix))
        check(cli_json("--db", db, "layers", "--tag", hostile)["layers"][0]["tokens"] == 1, "hostile tag is data")
        check(cli_json("--db", db, "layers")["layers"][0]["tokens"] == 1, "tables intact")

        before = {f: digest(os.path.join(tmp, f)) for f in os.listdir(tmp) if f.startswith("sec.db")}
        for q in ("layers", "experts", "cooc", "corr", "tags", "sources", "timeline", "logits"):
            cli("--db", db, q, "--json")
        after = {f: digest(os.path.join(tmp, f)) for f in os.listdir(tmp) if f.startswith("sec.db")}
        check(before == after, "queries changed the database files: %r -> %r" % (before, after))

        db2 = os.path.join(tmp, "open.db")
        # Unprotected, a non-loopback bind needs --allow-insecure-remote (test_tls_auth.py)
        # and is then warned about at every start.
        with Daemon("--db", db2, "--listen", "tcp://0.0.0.0:0", "--allow-insecure-remote", "--flush-ms", "50") as d:
            wait_for(lambda: "NOT loopback" in d.output(), "a warning for a non-loopback bind")
            d.stop()
        for bad in ("tcp://127.0.0.1", "tcp://127.0.0.1:99999", "udp://1.2.3.4:5", "unix:"):
            p = subprocess.run([MOESCOPED, "--db", db2, "--listen", bad], capture_output=True, text=True, timeout=30)
            check(p.returncode == 2 and p.stderr.count("\n") == 1, "--listen %s: %r" % (bad, p.stderr))
    print("ok: loopback by default, explicit non-loopback warned, 0660 socket, private database, read-only CLI, "
          "parameterised SQL")


if __name__ == "__main__":
    main()
