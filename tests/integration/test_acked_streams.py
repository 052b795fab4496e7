#!/usr/bin/env python3
"""Acknowledged streams (docs/OPERATIONS.md "Acknowledged streams"): a client that opens with
{"type": "hello", "stream": ID, "ack": true} has every line counted exactly once across
kill -9 of the daemon, a full disk and reconnects, and learns what was committed. The bundled
client (samples/clients/stream_records.py --file) is the sender; a raw socket checks the
protocol itself. Each time the database equals `moescope analyze` of the lines sent."""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import tls_certs
from harness import (CSV_HEADER, SOURCE, Daemon, check, cli_json, committed_records, csv_lines, fail, free_port,
                     hits_by_layer, wait_for, write_file)

CLIENT = os.path.join(SOURCE, "samples", "clients", "stream_records.py")
sys.path.insert(0, os.path.dirname(CLIENT))
from stream_records import MoescopeSink  # noqa: E402
def listen(db, port, *extra, log=None):
    """moescoped listening on 127.0.0.1:port, once it accepts connections."""
    d = Daemon("--db", db, "--listen", "tcp://127.0.0.1:%d" % port, "--flush-ms", "50", *extra, log=log)
    d.wait_ready()
    return d


def sender(port, path, stream, *extra):
    return subprocess.Popen([sys.executable, CLIENT, "tcp://127.0.0.1:%d" % port, "--file", path,
                             "--stream", stream, "--give-up-s", "60", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(p, what, timeout=120):
    out, err = p.communicate(timeout=timeout)
    check(p.returncode == 0, "%s: the client exited %d: %s" % (what, p.returncode, err))
    check("every line acknowledged" in out, "%s: %r" % (what, out))
    return out, err


def expect(db, files, what):
    want = cli_json("analyze", *files)
    got = cli_json("--db", db, "layers")
    check(got["global"]["tokens"] == want["global"]["tokens"],
          "%s: %d records counted, %d sent" % (what, got["global"]["tokens"], want["global"]["tokens"]))
    check(hits_by_layer(got) == hits_by_layer(want), "%s: hits differ from analyze of what was sent" % what)


def stream_seq(db, stream):
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        row = con.execute("SELECT seq FROM streams WHERE stream = ?", (stream,)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


class Raw:
    """A client speaking the protocol by hand."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.inbox = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        while b"\n" not in self.inbox:
            data = self.sock.recv(4096)
            if not data:
                return None
            self.inbox += data
        line, self.inbox = self.inbox.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        self.sock.close()


def file_acknowledged(tmp, rng):
    db, path, port = os.path.join(tmp, "file.db"), os.path.join(tmp, "file.log"), free_port()
    write_file(path, CSV_HEADER + csv_lines(rng, 20000))
    with listen(db, port) as d:
        finished(sender(port, path, "s1"), "a file")
        check(stream_seq(db, "s1") == 20001, "every line's number committed: %r" % stream_seq(db, "s1"))
        d.stop()
    expect(db, [path], "a file")


def protocol_by_hand(tmp, rng):
    """hello, lines, an ack after the commit; a reconnect whose hello names lines already
    committed resumes after them (the reply acknowledges them); a gap is logged."""
    db, port = os.path.join(tmp, "raw.db"), free_port()
    first, second = csv_lines(rng, 10), csv_lines(rng, 10)
    with listen(db, port) as d:
        a = Raw(port)
        a.send(b'{"type": "hello", "stream": "raw", "ack": true}\n')
        check(a.reply() == {"type": "ack", "stream": "raw", "seq": 0, "next": 1}, "the hello is answered")
        a.send(first)
        check(a.reply() == {"type": "ack", "stream": "raw", "seq": 10}, "lines 1-10 acknowledged")
        cut = second.index(b"\n", 20) + 1
        a.send(second[:cut] + b"3,1")  # two or three lines and a cut one
        n = second[:cut].count(b"\n")
        wait_for(lambda: stream_seq(db, "raw") == 10 + n, "lines 11-%d committed" % (10 + n))
        a.close()
        b = Raw(port)
        b.send(b'{"type": "hello", "stream": "raw", "ack": true, "next": 11}\n')
        r = b.reply()
        check(r == {"type": "ack", "stream": "raw", "seq": 10 + n, "next": 11 + n}, "resumed at %d: %r" % (11 + n, r))
        b.send(b"".join(second.splitlines(keepends=True)[n:]))
        wait_for(lambda: b.reply() == {"type": "ack", "stream": "raw", "seq": 20}, "lines 11-20 acknowledged")
        b.close()
        c = Raw(port)  # a client that lost lines 21-24: they are logged, numbering goes on
        c.send(b'{"type": "hello", "stream": "raw", "ack": true, "next": 25}\n')
        check(c.reply() == {"type": "ack", "stream": "raw", "seq": 20, "next": 25}, "the gap hello")
        c.close()
        wait_for(lambda: "lines 21 to 24 never arrived" in d.output(), "the gap logged")
        d.stop()
    check(committed_records(db) == 20, "20 records, each once: %d" % committed_records(db))
    expected = os.path.join(tmp, "raw.expected")
    write_file(expected, first + second)
    expect(db, [expected], "by hand")


def resume_after_a_lost_ack(tmp, rng):
    """moescoped killed after a commit and before its ack reached the client (seed 376440200
    of test_random_faults.py): the client's hello after the restart names an older line than
    the one committed. The reply acknowledges the committed lines, so the client forgets them
    and sends only the lines after them; each must be counted and acknowledged (they were
    dropped as resent ones, and a client with no more lines than that never got an ack)."""
    db, port = os.path.join(tmp, "lost-ack.db"), free_port()
    first, second = csv_lines(rng, 10), csv_lines(rng, 5)
    with listen(db, port) as d:
        a = Raw(port)
        a.send(b'{"type": "hello", "stream": "lost", "ack": true}\n')
        a.reply()
        a.send(first)
        check(a.reply() == {"type": "ack", "stream": "lost", "seq": 10}, "lines 1-10 acknowledged")
        a.close()
        d.stop()
    with listen(db, port) as d:
        b = Raw(port)  # this client never saw the ack for 1-10
        b.send(b'{"type": "hello", "stream": "lost", "ack": true, "next": 1}\n')
        hello = b.reply()
        check(hello["seq"] == 10, "the reply acknowledges 1-10: %r" % hello)
        b.send(second)  # lines 11-15, the ones not acknowledged
        b.sock.settimeout(5)
        acks = []
        try:
            while not acks or acks[-1].get("seq") != 15:
                acks.append(b.reply())
        except socket.timeout:
            pass
        check(acks and acks[-1] == {"type": "ack", "stream": "lost", "seq": 15},
              "lines 11-15 acknowledged within 5 s: %r after %r" % (acks, hello))
        check(hello == {"type": "ack", "stream": "lost", "seq": 10, "next": 11}, "resumed at 11: %r" % hello)
        b.close()
        d.stop()
    check(committed_records(db) == 15, "15 records, each once: %d" % committed_records(db))
    expected = os.path.join(tmp, "lost-ack.expected")
    write_file(expected, first + second)
    expect(db, [expected], "after a lost ack")

    # The same with the bundled client, as in the soak: SIGTERM's last commit follows the
    # closing of the connections, so the client never sees the ack of the lines read last.
    db = os.path.join(tmp, "lost-ack-client.db")
    third, fourth = csv_lines(rng, 10), csv_lines(rng, 5)
    d = Daemon("--db", db, "--listen", "tcp://127.0.0.1:%d" % port, "--flush-ms", "600000")
    with d:
        d.wait_ready()
        sink = MoescopeSink("tcp://127.0.0.1:%d" % port, stream="lost-client", give_up_s=10, io_timeout_s=5)
        for line in third.splitlines(keepends=True):
            sink.send_line(line)
        sink.flush()
        time.sleep(0.3)  # read by the daemon; no commit before the one at SIGTERM
        d.stop()
    check(stream_seq(db, "lost-client") == 10 and len(sink.unacked) == 10,
          "1-10 committed, not acknowledged: %r, %d" % (stream_seq(db, "lost-client"), len(sink.unacked)))
    with listen(db, port) as d:
        for line in fourth.splitlines(keepends=True):
            sink.send_line(line)
        try:
            sink.close()  # reconnects: the hello names line 1
        except ConnectionError as e:
            fail("the bundled client after a lost ack: %s" % e)
        d.stop()
    check(stream_seq(db, "lost-client") == 15, "15 lines committed: %r" % stream_seq(db, "lost-client"))
    write_file(expected, third + fourth)
    expect(db, [expected], "the bundled client after a lost ack")


def bad_and_plain_hellos(tmp, rng):
    db, port = os.path.join(tmp, "bad.db"), free_port()
    with listen(db, port) as d:
        a = Raw(port)
        a.send(b'{"type": "hello", "stream": "a b\\u001b[2J", "ack": true}\n' + csv_lines(rng, 5))
        r = a.reply()
        check(r and r["type"] == "error" and "stream" in r["reason"], "a bad stream id: %r" % r)
        check(a.reply() is None, "then the connection ends")
        a.close()
        p = Raw(port)  # a hello without "ack": a plain stream, nothing comes back
        p.send(b'{"type": "hello", "stream": "p"}\n' + csv_lines(rng, 7))
        p.sock.shutdown(socket.SHUT_WR)
        check(p.reply() is None, "no reply to a plain stream")
        p.close()
        wait_for(lambda: committed_records(db) == 7, "the plain stream's 7 records")
        s = cli_json("--db", db, "sources")["sources"][0]
        check(s["rejects"].get("malformed", {}).get("count") == 1, "the bad hello is one reject: %r" % s["rejects"])
        check("\x1b" not in d.output(), "no raw control characters in the log")
        d.stop()


def two_connections_one_stream(tmp, rng):
    db, port = os.path.join(tmp, "two.db"), free_port()
    with listen(db, port) as d:
        a, b = Raw(port), Raw(port)
        a.send(b'{"type": "hello", "stream": "x", "ack": true}\n')
        a.reply()
        a.send(csv_lines(rng, 5))
        check(a.reply()["seq"] == 5, "a's lines acknowledged")
        b.send(b'{"type": "hello", "stream": "x", "ack": true}\n')
        check(b.reply()["next"] == 6, "b goes on after 5")
        check(a.reply() is None, "a is closed: b took the stream over")
        b.send(csv_lines(rng, 3))
        check(b.reply()["seq"] == 8, "b's lines acknowledged")
        a.close()
        b.close()
        d.stop()


def resume_a_file(tmp, rng):
    """The client run again on the same file skips what was counted."""
    db, path, port = os.path.join(tmp, "resume.db"), os.path.join(tmp, "resume.log"), free_port()
    write_file(path, CSV_HEADER + csv_lines(rng, 1000))
    with listen(db, port) as d:
        finished(sender(port, path, "r"), "the first run")
        write_file(path, csv_lines(rng, 500), "ab")
        out, _ = finished(sender(port, path, "r"), "the second run")
        check("sent 500 lines" in out and "1001 counted before skipped" in out, out)
        d.stop()
    expect(db, [path], "resume")


def kill9_while_sending(tmp, rng):
    """A producer writes 60,000 lines over about 3 s into the client's standard input while
    the daemon is killed with SIGKILL three times and restarted."""
    db, path, port = os.path.join(tmp, "kill.db"), os.path.join(tmp, "kill.log"), free_port()
    log = open(os.path.join(tmp, "kill.daemon.log"), "w+")
    d = listen(db, port, log=log)
    p = subprocess.Popen([sys.executable, CLIENT, "tcp://127.0.0.1:%d" % port, "--file", "-", "--stream", "k",
                          "--give-up-s", "60"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=False)
    sent = CSV_HEADER
    p.stdin.write(CSV_HEADER)
    kill_at = sorted(rng.sample(range(5, 55), 3))
    try:
        for i in range(60):
            chunk = csv_lines(rng, 1000)
            p.stdin.write(chunk)
            p.stdin.flush()
            sent += chunk
            time.sleep(0.05)
            if i in kill_at:
                d.kill()
                time.sleep(rng.uniform(0.05, 0.3))
                d = listen(db, port, log=log)
        out, err = p.communicate(timeout=120)  # closes its input
        check(p.returncode == 0 and b"every line acknowledged" in out, "the client: %r %r" % (out, err))
        check(b"reconnecting" in err, "the client reconnected: %r" % err)
        d.stop()
    finally:
        d.__exit__(None)
        if p.poll() is None:
            p.kill()
    write_file(path, sent)
    expect(db, [path], "kill -9 x3")


def over_tls_with_a_token(tmp, rng):
    """The auth line, then the hello, over TLS; replies written while records are read."""
    os.makedirs(os.path.join(tmp, "certs"))
    certs = tls_certs.make(os.path.join(tmp, "certs"))
    tokens = os.path.join(tmp, "tokens")
    write_file(tokens, b"tok-acked\n")
    os.chmod(tokens, 0o600)
    db, port = os.path.join(tmp, "tls.db"), free_port()
    with listen(db, port, "--tls-cert", certs["server"], "--tls-key", certs["server_key"],
                "--auth-token-file", tokens) as d:
        sink = MoescopeSink("tcp://127.0.0.1:%d" % port, tls_ca=certs["ca"], token="tok-acked", stream="tls")
        for i in range(3000):  # NDJSON records, no layer's ids twice in a row
            sink.route(i % 6, [i % 7, 7 + (i // 6) % 9])
        sink.close()
        check(not sink.unacked and stream_seq(db, "tls") == 3000, "every line acknowledged over TLS")
        check(committed_records(db) == 3000, "3000 records: %d" % committed_records(db))
        d.stop()


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                          capture_output=True).returncode == 0


def full_disk_backpressure(tmp, rng):
    """The database's file system full: reading pauses (the client waits), kill -9 while full,
    space back, restart: every line counted once."""
    mnt = os.path.join(tmp, "small")
    if not mount_tmpfs(mnt, "8m"):
        print("  SKIP full disk: cannot mount a tmpfs here (needs root)")
        return
    try:
        db, path, port = os.path.join(mnt, "full.db"), os.path.join(tmp, "full.log"), free_port()
        write_file(path, CSV_HEADER + csv_lines(rng, 60000))
        log = open(os.path.join(tmp, "full.daemon.log"), "w+")
        d = listen(db, port, log=log)
        wait_for(lambda: os.path.exists(db), "the database")
        filler = os.path.join(mnt, "filler")
        subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=64k"], capture_output=True)
        p = sender(port, path, "f", "--max-unacked-mb", "0.5")
        wait_for(lambda: "acknowledged streams are not read" in d.own_output(), "reading paused", attempts=400)
        time.sleep(1.0)
        check(p.poll() is None, "the client waits while nothing can be committed")
        d.kill()  # while full: what was counted and not committed is resent
        os.unlink(filler)
        d = listen(db, port, log=log)
        finished(p, "full disk")
        d.stop()
        expect(db, [path], "full disk")
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def main():
    rng = random.Random(2929)
    with tempfile.TemporaryDirectory() as tmp:
        only = os.environ.get("MOESCOPE_ACKED_ONLY")  # one scenario by name
        for scenario in (file_acknowledged, protocol_by_hand, bad_and_plain_hellos, two_connections_one_stream,
                         resume_a_file, over_tls_with_a_token, kill9_while_sending, full_disk_backpressure,
                         resume_after_a_lost_ack):
            if only and scenario.__name__ != only:
                continue
            scenario(tmp, rng)
            print("  ok: " + scenario.__name__, flush=True)
    print("ok: acknowledged streams count every line once across reconnects, kill -9 and a full disk")


if __name__ == "__main__":
    main()
