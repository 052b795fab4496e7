#!/usr/bin/env python3
"""Hostile and clumsy socket clients cannot stall other sources or grow the daemon's memory
without bound: a client that sends one byte at a time, one that sends a gigabyte without a
newline, 200 connections at once, more connections than the cap, and an idle connection.
Throughout, a followed file and a well-behaved client keep flowing. SIGTERM reads what the
kernel already received on a connection before closing it (issue 29 item 8: it was lost)."""
import os
import re
import signal
import socket
import tempfile
import threading
import time

from harness import Daemon, check, cli_json, wait_for

GIB = 1 << 30


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def port_of(d):
    return int(wait_for(lambda: re.search(r"tcp://127\.0\.0\.1:(\d+)", d.output()), "port").group(1))


def source(db, kind):
    return [s for s in cli_json("--db", db, "sources")["sources"] if s["kind"] == kind][0]


def records(db, kind):
    try:
        return source(db, kind)["records"]
    except Exception:
        return -1


def good_lines(n, layer=1):
    return "".join('{"layer": %d, "experts": [%d, %d]}\n' % (layer, i % 8, 8 + i % 8) for i in range(n)).encode()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "moe.db")
        log = os.path.join(tmp, "side.log")
        open(log, "w").close()
        with Daemon("--db", db, "--listen", "tcp://127.0.0.1:0", "--follow", log, "--flush-ms", "50",
                    "--poll-ms", "20", "--max-connections", "256", "--idle-timeout-s", "2") as d:
            port = port_of(d)
            pid = d.proc.pid
            base = rss_mb(pid)

            # A slow client: one byte every 5 ms, holding a connection open for ~1 s.
            slow_done = threading.Event()

            def slow():
                with socket.create_connection(("127.0.0.1", port)) as s:
                    for b in good_lines(4, layer=2):
                        s.sendall(bytes([b]))
                        time.sleep(0.005)
                slow_done.set()

            # A gigabyte without a newline.
            peak = [0.0]

            def flood():
                chunk = b"x" * (1 << 20)
                with socket.create_connection(("127.0.0.1", port)) as s:
                    for i in range(GIB // len(chunk)):
                        s.sendall(chunk)
                        if i % 64 == 0:
                            peak[0] = max(peak[0], rss_mb(pid))
                    s.sendall(b"\n" + good_lines(3, layer=3))

            ts = threading.Thread(target=slow)
            tf = threading.Thread(target=flood)
            ts.start(), tf.start()
            # Meanwhile the file and a normal client keep flowing.
            with open(log, "ab") as f:
                f.write(b"".join(b"%d,%d %d\n" % (i % 4, i % 7, 7 + i % 3) for i in range(500)))
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(good_lines(1000))
            wait_for(lambda: records(db, "file") == 500, "the followed file during the flood", attempts=400)
            check(not slow_done.is_set() or tf.is_alive(), "sources flowed while hostile clients were connected")
            ts.join(), tf.join()
            wait_for(lambda: records(db, "tcp") == 1000 + 4 + 3, "socket records around the flood", attempts=400)
            peak[0] = max(peak[0], rss_mb(pid))
            check(peak[0] < base + 64, "RSS peaked at %.0f MB (base %.0f MB) during a 1 GiB line" % (peak[0], base))
            tcp = source(db, "tcp")
            check(tcp["rejects"].get("line_too_long", {}).get("count") == 1, "the gigabyte line is one reject")

            # 200 connections at once, each sending 50 records, some closing mid-line.
            conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
            for i, c in enumerate(conns):
                c.sendall(good_lines(50, layer=4) + (b'{"layer": 4, "exp' if i % 10 == 0 else b""))
            for c in conns:
                c.close()
            wait_for(lambda: records(db, "tcp") == 1007 + 200 * 50, "200 concurrent connections", attempts=400)
            wait_for(lambda: source(db, "tcp")["rejects"].get("partial_line", {}).get("count") == 20,
                     "their partial lines")
            after = rss_mb(pid)
            check(after < base + 64, "RSS %.0f MB after 200 connections (base %.0f MB)" % (after, base))

            # An idle client is disconnected after --idle-timeout-s.
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b'{"layer": 5, "experts": [1, 2]}\n{"layer": 5')
                s.settimeout(10)
                t0 = time.time()
                check(s.recv(1) == b"", "the server closes an idle connection")
                check(1.5 < time.time() - t0 < 8, "after about --idle-timeout-s")
            wait_for(lambda: source(db, "tcp")["rejects"].get("partial_line", {}).get("count") == 21,
                     "the idle connection's partial line")
            d.stop()
        print("ok: slow client, 1 GiB line (RSS peak %.0f MB over a %.0f MB base), 200 connections, idle timeout"
              % (peak[0], base))

        # The connection cap: beyond --max-connections, connections are closed at once and counted.
        db2 = os.path.join(tmp, "cap.db")
        with Daemon("--db", db2, "--listen", "tcp://127.0.0.1:0", "--flush-ms", "50", "--max-connections", "8") as d:
            port = port_of(d)
            held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
            time.sleep(0.3)
            extra = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
            for c in extra:
                c.settimeout(5)
                check(c.recv(1) == b"", "a connection beyond the cap is closed")
            held[0].sendall(good_lines(10))
            held[0].close()
            wait_for(lambda: records(db2, "tcp") == 10, "held connections still work")
            check(source(db2, "tcp")["rejects"] == {}, "no rejects")
            for c in held[1:] + extra:
                c.close()
            d.stop()
        src = cli_json("--db", db2, "sources")["sources"][0]
        check(src["connections"] == 8 and src["connections_refused"] == 5, "8 accepted, 5 refused: %r" % src)
        print("ok: connection cap: %d accepted, %d refused" % (src["connections"], src["connections_refused"]))
        sigterm_drains(tmp)


def sigterm_drains(tmp):
    """Lines sent before SIGTERM are read before the sockets close: those in the daemon's
    kernel, and those that follow from ours while it reads."""
    db = os.path.join(tmp, "drain.db")
    with Daemon("--db", db, "--listen", "tcp://127.0.0.1:0", "--flush-ms", "50") as d:
        port = port_of(d)
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        for c in conns:
            c.sendall(good_lines(2))  # two: a layer's top-k is taken from 2 agreeing records
        wait_for(lambda: records(db, "tcp") == 16, "every connection accepted")
        d.proc.send_signal(signal.SIGSTOP)  # the daemon reads nothing of what follows
        # 200 KB each: more than a fresh socket's receive buffer (about 128 KB), so the rest
        # waits in our send buffer and follows as the daemon reads, after SIGTERM came.
        tail = good_lines(7000, layer=2)[:200000]
        for c in conns:
            c.sendall(tail)
        d.proc.send_signal(signal.SIGTERM)
        d.proc.send_signal(signal.SIGCONT)
        rc = d.proc.wait(timeout=30)
        check(rc == 0, "exit %d after SIGTERM" % rc)
        for c in conns:
            c.close()
    complete = tail.count(b"\n")
    got = source(db, "tcp")
    check(got["records"] == 16 + 8 * complete,
          "SIGTERM counted %d of the %d lines sent before it" % (got["records"] - 16, 8 * complete))
    check(got["rejects"].get("partial_line", {}).get("count") == 8, "each cut last line: %r" % got["rejects"])
    print("ok: SIGTERM read the %d lines (%d bytes) sent before it" % (8 * complete, 8 * len(tail)))


if __name__ == "__main__":
    main()
