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
"""
import argparse
import array
import base64
import json
import random
import socket
import ssl


class MoescopeSink:
    def __init__(self, address, tag=None, flush_bytes=1 << 16, token=None, tls_ca=None,
                 tls_cert=None, tls_key=None):
        if address.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(address[5:])
        elif address.startswith("tcp://"):
            host, port = address[6:].rsplit(":", 1)
            host = host.strip("[]") or "127.0.0.1"
            sock = socket.create_connection((host, int(port)))
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
            self.sock = sock
        else:
            raise ValueError("address must be tcp://HOST:PORT or unix:PATH")
        self.tag = tag
        self.buf = []
        self.size = 0
        self.flush_bytes = flush_bytes
        if token is not None:
            self._line({"type": "auth", "token": token})
            self.flush()

    def _send(self, obj):
        if self.tag is not None and "tag" not in obj:
            obj["tag"] = self.tag
        self._line(obj)

    def _line(self, obj):
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        self.buf.append(line)
        self.size += len(line)
        if self.size >= self.flush_bytes:
            self.flush()

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
        if self.buf:
            self.sock.sendall("".join(self.buf).encode())
            self.buf, self.size = [], 0

    def close(self, timeout=5.0):
        """Sends what is buffered and waits (up to `timeout` s) until moescoped has read it
        all and closed its end: a close with unread bytes would reset the connection."""
        self.flush()
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


def main():
    ap = argparse.ArgumentParser(description="Send a synthetic routing stream to moescoped.")
    ap.add_argument("address", nargs="?", default="tcp://127.0.0.1:7070")
    ap.add_argument("records", nargs="?", type=int, default=10000)
    ap.add_argument("--tag", default="synthetic")
    ap.add_argument("--token", help="auth token (prefer --token-file: argv is visible to all)")
    ap.add_argument("--token-file", help="file whose first non-empty line is the token")
    ap.add_argument("--tls-ca", help="CA certificate (PEM) that signed the daemon's: speak TLS")
    ap.add_argument("--tls-cert", help="client certificate (PEM), for mutual TLS")
    ap.add_argument("--tls-key", help="client private key (PEM), for mutual TLS")
    args = ap.parse_args()
    token = read_token(args.token_file) if args.token_file else args.token
    n = args.records
    address = args.address
    rng = random.Random(1)
    sink = MoescopeSink(address, tag=args.tag, token=token, tls_ca=args.tls_ca,
                        tls_cert=args.tls_cert, tls_key=args.tls_key)
    sink.meta("toy-moe", num_experts=64, top_k=4)
    for i in range(n):
        layer = i % 24
        sink.route(layer, rng.sample(range(64), 4), token=i // 24)
    sink.close()
    print("sent %d records to %s" % (n, address))


if __name__ == "__main__":
    main()
