#!/usr/bin/env python3
"""/metrics cannot be turned against the daemon: 64 records with 1,000-byte tags and expert
id 4,095 give a scrape of bounded size (long tags summed under tag="other"); /healthz answers
within 1 s while 32 half-sent requests are open, and those are closed after the request
timeout (5 s); HEAD returns the headers without a body."""
import os
import re
import socket
import tempfile
import time
import urllib.request

from harness import Daemon, check, wait_for

MAX_SCRAPE = 10 << 20  # README, Guarantees: a scrape is at most 10 MB whatever the input


def get(port, path, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.read()


def samples(text, name):
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^%s\{([^}]*)\} (\S+)$" % name, text, re.M)}


def raw(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "m.db")
        with Daemon("--db", db, "--listen", "tcp://127.0.0.1:0", "--metrics", ":0", "--flush-ms", "50") as d:
            mport = int(wait_for(lambda: re.search(r"metrics on http://127\.0\.0\.1:(\d+)/", d.output()), "metrics").group(1))
            lport = int(wait_for(lambda: re.search(r"listening on tcp://127\.0\.0\.1:(\d+)", d.output()), "listener").group(1))
            with socket.create_connection(("127.0.0.1", lport)) as s:
                s.sendall("".join('{"layer": 0, "experts": [4095, %d], "tag": "%s%02d"}\n' % (i, "x" * 1000, i)
                                  for i in range(64)).encode())

            def scraped():
                text = get(mport, "/metrics")[1].decode()
                recs = samples(text, "moescope_source_records_total")
                return text if sum(recs.values()) == 64 else None
            text = wait_for(scraped, "64 hostile records counted")
            check(len(text) < MAX_SCRAPE, "scrape of %d bytes" % len(text))
            hits = samples(text, "moescope_expert_hits_total")
            check(hits.get('tag="all",layer="0",expert="4095"') == 64, "all: expert 4095 hit 64 times")
            other = sum(v for k, v in hits.items() if k.startswith('tag="other",'))
            check(other == 128, "the long tags' hits are summed under tag=\"other\": %r" % other)
            check("x" * 100 not in text, "no 1,000-byte label")
            omitted = re.search(r"^moescope_exposition_series_omitted (\S+)$", text, re.M)
            check(omitted and float(omitted.group(1)) >= 64, "the folded tags are counted as omitted")

            # HEAD: headers (with the length of the body GET would send), no body.
            head = raw(mport, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            headers, _, body = head.partition(b"\r\n\r\n")
            check(headers.startswith(b"HTTP/1.1 200"), "HEAD status: %r" % headers[:40])
            length = re.search(rb"(?i)content-length: (\d+)", headers)
            check(length and int(length.group(1)) > 0, "HEAD has Content-Length")
            check(body == b"", "HEAD has no body (%d bytes)" % len(body))

            # 32 half-sent requests: /healthz still answers at once.
            half = []
            for _ in range(32):
                s = socket.create_connection(("127.0.0.1", mport), timeout=10)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                half.append(s)
            time.sleep(0.2)
            for _ in range(5):
                t0 = time.monotonic()
                status, body = get(mport, "/healthz", timeout=1)
                check(status == 200 and body == b"ok\n" and time.monotonic() - t0 < 1, "/healthz within 1 s")
            # ... and the half-sent ones are closed by the request timeout.
            t0 = time.monotonic()
            for s in half:
                try:
                    s.settimeout(max(0.1, 8 - (time.monotonic() - t0)))
                    closed = s.recv(1) == b""
                except (ConnectionResetError, socket.timeout) as e:
                    closed = isinstance(e, ConnectionResetError)
                check(closed, "a half-sent request is closed within 8 s")
                s.close()
            d.stop()
    print("ok: bounded scrape, /healthz responsive under half-sent requests, HEAD without body")


if __name__ == "__main__":
    main()
