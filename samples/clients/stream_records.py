#!/usr/bin/env python3
"""How an inference engine streams routing records to moescoped (standard library only).

Start the daemon:      moescoped --db moe.db --listen tcp://127.0.0.1:7070
                       (or --listen unix:/run/moescope.sock)
Or forward responses:  sink.forward_response(out.routed_experts, request=rid, phase="decode")
Then, in the engine:   sink = MoescopeSink("tcp://127.0.0.1:7070", tag="code")
                       sink.meta("Qwen/Qwen3-30B-A3B", num_experts=128, top_k=8)
                       ... in the router's forward hook, per layer and batch:
                       sink.route(layer, topk_ids.tolist(), topk_weights.tolist())
                       sink.close()

One JSON object per line; a batch (list of lists, one row per token) is one line. Records
are buffered and sent in large writes so the hook costs microseconds. Run this file to
send a synthetic stream:  python3 stream_records.py tcp://127.0.0.1:7070 [records]

A remote collector (moescoped --tls-cert ... --auth-token-file ...): pass the token
(token="..." or --token-file FILE, never on a shared command line) and the CA that signed
the daemon's certificate (tls_ca="ca.pem" / --tls-ca ca.pem); with --tls-client-ca on the
daemon also the client's certificate and key (tls_cert=, tls_key=). The token travels as the
first line, {"type": "auth", "token": "..."}; over plain TCP anyone on the path can read it,
so use it with TLS off loopback.

Acknowledged streams (docs/OPERATIONS.md "Acknowledged streams"): with stream="ID" the sink opens with
{"type": "hello", "stream": "ID", "ack": true}, numbers its lines from 1, keeps every line
until moescoped acknowledges it ({"type": "ack", "stream": "ID", "seq": N}: lines up to N
are committed to the database), and on a lost connection (moescoped killed, restarted)
reconnects and resends what is not acknowledged; moescoped drops what it already counted, so
every line is counted exactly once. At most max_unacked_bytes are kept: beyond that the
sink waits for acknowledgements (backpressure, e.g. while moescoped's disk is full). Send a
file or standard input that way, resuming after the lines already counted when run again:
    python3 stream_records.py tcp://127.0.0.1:7070 --file moe.log [--stream ID]
    engine | python3 stream_records.py tcp://127.0.0.1:7070 --file - --stream node1
"""
import argparse
import array
import base64
import collections
import hashlib
import itertools
import json
import os
import random
import re
import socket
import ssl
import sys
import time


class MoescopeSink:
    def __init__(self, address, tag=None, flush_bytes=1 << 16, token=None, tls_ca=None,
                 tls_cert=None, tls_key=None, stream=None, max_unacked_bytes=64 << 20,
                 give_up_s=300.0, io_timeout_s=60.0):
        if not (address.startswith("unix:") or address.startswith("tcp://")):
            raise ValueError("address must be tcp://HOST:PORT or unix:PATH")
        self.address, self.token = address, token
        self.tls = (tls_ca, tls_cert, tls_key)
        self.tag = tag
        self.buf = []
        self.size = 0
        self.flush_bytes = flush_bytes
        # Acknowledged streams only: every line not acknowledged yet, (number, bytes), and how
        # many of them went out on the current connection.
        self.stream = stream
        self.unacked = collections.deque()
        self.unacked_bytes = 0
        self.sent = 0
        self.next_seq = 1
        self.resume_after = 0  # lines of this stream moescoped had counted at the first hello
        self.max_unacked_bytes, self.give_up_s, self.io_timeout_s = max_unacked_bytes, give_up_s, io_timeout_s
        self.inbox = b""
        self.sock = None
        self.started = False
        if stream is None:
            self._connect()
        else:
            self._reconnect(None)

    def _open(self):
        address = self.address
        if address.startswith("unix:"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(address[5:])
            return sock
        host, port = address[6:].rsplit(":", 1)
        host = host.strip("[]") or "127.0.0.1"
        sock = socket.create_connection((host, int(port)), timeout=self.io_timeout_s)
        tls_ca, tls_cert, tls_key = self.tls
        if tls_ca is not None:
            # Verifies the daemon's certificate (chain to tls_ca, name = host).
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=tls_ca)
            if tls_cert is not None:
                ctx.load_cert_chain(tls_cert, tls_key)
            try:
                sock = ctx.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        return sock

    def _connect(self):
        self.sock = self._open()
        self.sock.settimeout(self.io_timeout_s)
        first = b""
        if self.token is not None:
            first += self._encode({"type": "auth", "token": self.token})
        if self.stream is None:
            if first:
                self.sock.sendall(first)
            return
        hello = {"type": "hello", "stream": self.stream, "ack": True}
        if self.started:  # the number of the first line it still has (or the next one)
            hello["next"] = self.unacked[0][0] if self.unacked else self.next_seq
        self.sock.sendall(first + self._encode(hello))
        self.inbox = b""
        reply = None
        while reply is None:
            reply = self._read_reply(self.io_timeout_s, hello=True)
        if not self.started:
            self.started = True
            self.resume_after = reply["seq"]
            self.next_seq = reply["next"]
        self.sent = 0

    def _reconnect(self, error):
        """Until connected (and the stream greeted), for at most give_up_s."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if error is not None:
            print("stream_records.py: %s: %s; reconnecting, %d lines not acknowledged kept"
                  % (self.address, error, len(self.unacked)), file=sys.stderr)
        deadline, delay = time.monotonic() + self.give_up_s, 0.05
        while True:
            try:
                return self._connect()
            except (OSError, ValueError) as e:  # ValueError: a garbled reply
                if self.sock is not None:
                    self.sock.close()
                    self.sock = None
                if time.monotonic() > deadline:
                    raise ConnectionError("moescoped at %s unreachable for %.0f s: %s"
                                          % (self.address, self.give_up_s, e)) from e
                time.sleep(delay)
                delay = min(1.0, delay * 2)

    def _read_reply(self, timeout, hello=False):
        """Reads what moescoped sent (waiting up to `timeout` s); applies acknowledgements.
        Returns the first reply line with "next" (the answer to a hello) when `hello`."""
        while b"\n" not in self.inbox:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(1 << 16)
            except (BlockingIOError, ssl.SSLWantReadError, socket.timeout):
                return None
            finally:
                self.sock.settimeout(self.io_timeout_s)
            if not data:
                raise ConnectionError("moescoped closed the connection")
            self.inbox += data
            timeout = 0 if not hello else timeout
        found = None
        while b"\n" in self.inbox:
            line, self.inbox = self.inbox.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("type") == "error":
                raise RuntimeError("moescoped refused the stream: %s" % msg.get("reason"))
            if msg.get("type") == "ack":
                self._acked(msg["seq"])
                if "next" in msg and found is None:
                    found = msg
        return found if hello else True

    def _acked(self, seq):
        while self.unacked and self.unacked[0][0] <= seq:
            self.unacked_bytes -= len(self.unacked.popleft()[1])
            self.sent = max(0, self.sent - 1)

    @staticmethod
    def _encode(obj):
        return (json.dumps(obj, separators=(",", ":")) + "\n").encode()

    def _send(self, obj):
        if self.tag is not None and "tag" not in obj:
            obj["tag"] = self.tag
        self._line(obj)

    def _line(self, obj):
        self.send_line(self._encode(obj))

    def send_line(self, line):
        """One line as bytes, ending in a newline (a record of any format moescoped reads)."""
        self.size += len(line)
        if self.stream is None:
            self.buf.append(line)
        else:
            self.unacked.append((self.next_seq, line))
            self.next_seq += 1
            self.unacked_bytes += len(line)
        if self.size >= self.flush_bytes:
            self.flush()
        if self.stream is not None and self.unacked_bytes > self.max_unacked_bytes:
            self.flush()
            while self.unacked_bytes > self.max_unacked_bytes:  # backpressure: wait for acks
                self._io(lambda: self._read_reply(1.0))

    def meta(self, model_id, num_experts, top_k):
        self._send({"type": "meta", "model_id": model_id, "num_experts": num_experts, "top_k": top_k})

    def route(self, layer, experts, weights=None, token=None):
        """experts: one top-k list, or a list of them (one per token of the batch)."""
        rec = {"layer": layer, "experts": experts}
        if weights is not None:
            rec["weights"] = weights
        if token is not None:
            rec["token"] = token
        self._send(rec)

    def forward_response(self, routed_experts, request=None, phase=None, num_layers=None,
                         top_k=None, prompt_tokens=None):
        """An engine response's routed experts, forwarded as one line:
        vLLM (--enable-return-routed-experts): output.routed_experts, [tokens][layers][top_k];
        SGLang: meta_info["routed_experts"] (base64 int32 of the same shape), which needs
        num_layers and top_k to be reshaped. phase ("prefill" / "decode") splits the figures:
        the record's tag becomes TAG@PHASE (moescope ... --phase decode). prompt_tokens (the
        request's prompt length, which the client knows): the first prompt_tokens tokens are
        sent as prefill, the rest as decode."""
        if prompt_tokens is not None:
            tokens = routed_experts
            if isinstance(tokens, str):
                flat = array.array("i", base64.b64decode(tokens))
                per = num_layers * top_k
                tokens = [[list(flat[t * per + l * top_k:t * per + (l + 1) * top_k])
                           for l in range(num_layers)] for t in range(len(flat) // per)]
            if tokens[:prompt_tokens]:
                self.forward_response(tokens[:prompt_tokens], request, "prefill")
            if tokens[prompt_tokens:]:
                self.forward_response(tokens[prompt_tokens:], request, "decode")
            return
        rec = {"routed_experts": routed_experts}
        if isinstance(routed_experts, str):
            rec["num_layers"], rec["top_k"] = num_layers, top_k
        if request is not None:
            rec["request"] = request
        if phase is not None:
            rec["phase"] = phase
        self._send(rec)

    def gate_input(self, layer, token, values):
        self._send({"type": "gate_input", "layer": layer, "token": token, "values": values})

    def flush(self):
        if self.stream is None:
            if self.buf:
                self.sock.sendall(b"".join(self.buf))
                self.buf, self.size = [], 0
            return
        self._io(self._send_unsent)
        self.size = 0

    def _send_unsent(self):
        while self.sent < len(self.unacked):
            lines = list(itertools.islice(self.unacked, self.sent, self.sent + 4096))
            self.sock.sendall(b"".join(line for _, line in lines))
            self.sent += len(lines)
            self._read_reply(0)

    def _io(self, step):
        """Runs `step` on the connection; a lost connection is made again and every line not
        acknowledged is sent again before `step` is retried."""
        while True:
            try:
                return step()
            except (OSError, ValueError) as e:
                self._reconnect(e)
                try:
                    self._send_unsent()
                except (OSError, ValueError):
                    continue

    def close(self, timeout=5.0):
        """Sends what is buffered and waits (up to `timeout` s) until moescoped has read it
        all and closed its end: a close with unread bytes would reset the connection. An
        acknowledged stream first waits until every line is acknowledged (reconnecting as
        needed, at most give_up_s without progress)."""
        self.flush()
        last, since = len(self.unacked), time.monotonic()
        while self.stream is not None and self.unacked:
            self._io(lambda: self._read_reply(1.0))
            if len(self.unacked) < last:
                last, since = len(self.unacked), time.monotonic()
            elif time.monotonic() - since > self.give_up_s:
                raise ConnectionError("%d lines not acknowledged within %.0f s" % (len(self.unacked), self.give_up_s))
        try:
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(timeout)
            while self.sock.recv(4096):
                pass
        except OSError:  # ssl.SSLError and timeouts included: closing anyway
            pass
        finally:
            self.sock.close()


def read_token(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                return line.strip()
    raise SystemExit("stream_records.py: no token in %s" % path)


def default_stream_id(path):
    """A stream id for a file: this host and the file's absolute path (so running again on the
    same file resumes it), within the characters and length a stream id allows."""
    name = "%s:%s" % (socket.gethostname(), os.path.abspath(path))
    safe = re.sub(r"[^A-Za-z0-9._:/@+-]", "_", name)
    return safe if len(safe) <= 128 else safe[:87] + "+" + hashlib.sha256(name.encode()).hexdigest()[:40]


def send_file(sink, path):
    """Every complete line of `path` ("-": standard input), as it is; a file sent before on
    this stream resumes after the lines moescoped has counted."""
    src = sys.stdin.buffer if path == "-" else open(path, "rb")
    skip = sink.resume_after if path != "-" else 0
    sent = 0
    with src:
        for n, line in enumerate(src, 1):
            if n <= skip:
                continue
            if not line.endswith(b"\n"):
                print("stream_records.py: the last line of %s has no newline; not sent" % path, file=sys.stderr)
                break
            sink.send_line(line)
            sent += 1
    return skip, sent


def main():
    ap = argparse.ArgumentParser(description="Send a synthetic routing stream, or a file's lines, to moescoped.")
    ap.add_argument("address", nargs="?", default="tcp://127.0.0.1:7070")
    ap.add_argument("records", nargs="?", type=int, default=10000)
    ap.add_argument("--tag", default="synthetic")
    ap.add_argument("--token", help="auth token (prefer --token-file: argv is visible to all)")
    ap.add_argument("--token-file", help="file whose first non-empty line is the token")
    ap.add_argument("--tls-ca", help="CA certificate (PEM) that signed the daemon's: speak TLS")
    ap.add_argument("--tls-cert", help="client certificate (PEM), for mutual TLS")
    ap.add_argument("--tls-key", help="client private key (PEM), for mutual TLS")
    ap.add_argument("--file", help="send this file's lines as they are (-: standard input), acknowledged")
    ap.add_argument("--stream", help="acknowledged stream id (default with --file: host and path)")
    ap.add_argument("--max-unacked-mb", type=float, default=64,
                    help="keep at most this much unacknowledged; beyond it wait (default 64)")
    ap.add_argument("--give-up-s", type=float, default=300,
                    help="stop after moescoped was unreachable this long (default 300)")
    args = ap.parse_args()
    token = read_token(args.token_file) if args.token_file else args.token
    stream = args.stream
    if args.file is not None and stream is None:
        stream = default_stream_id(args.file) if args.file != "-" else "stdin:%s:%d" % (socket.gethostname(), os.getpid())
    try:
        sink = MoescopeSink(args.address, tag=None if args.file else args.tag, token=token, tls_ca=args.tls_ca,
                            tls_cert=args.tls_cert, tls_key=args.tls_key, stream=stream,
                            max_unacked_bytes=int(args.max_unacked_mb * (1 << 20)), give_up_s=args.give_up_s)
        if args.file is not None:
            skipped, n = send_file(sink, args.file)
        else:
            skipped, n = 0, args.records
            rng = random.Random(1)
            sink.meta("toy-moe", num_experts=64, top_k=4)
            for i in range(n):
                layer = i % 24
                sink.route(layer, rng.sample(range(64), 4), token=i // 24)
        sink.close()
    except (OSError, RuntimeError) as e:
        raise SystemExit("stream_records.py: %s" % e)
    what = "lines" if args.file is not None else "records"
    print("sent %d %s to %s%s" % (n, what, args.address,
                                  " (stream %s, every line acknowledged%s)" % (
                                      stream, ", %d counted before skipped" % skipped if skipped else "")
                                  if stream else ""))


if __name__ == "__main__":
    main()
