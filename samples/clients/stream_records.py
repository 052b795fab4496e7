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
"""
import json
import random
import socket
import sys


class MoescopeSink:
    def __init__(self, address, tag=None, flush_bytes=1 << 16):
        if address.startswith("unix:"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(address[5:])
        elif address.startswith("tcp://"):
            host, port = address[6:].rsplit(":", 1)
            self.sock = socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)))
        else:
            raise ValueError("address must be tcp://HOST:PORT or unix:PATH")
        self.tag = tag
        self.buf = []
        self.size = 0
        self.flush_bytes = flush_bytes

    def _send(self, obj):
        if self.tag is not None and "tag" not in obj:
            obj["tag"] = self.tag
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
                         top_k=None):
        """An engine response's routed experts, forwarded as one line:
        vLLM (--enable-return-routed-experts): output.routed_experts, [tokens][layers][top_k];
        SGLang: meta_info["routed_experts"] (base64 int32 of the same shape), which needs
        num_layers and top_k to be reshaped. phase ("prefill" / "decode") splits the figures:
        the record's tag becomes TAG@PHASE (moescope ... --phase decode)."""
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

    def close(self):
        self.flush()
        self.sock.close()


def main():
    address = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:7070"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(1)
    sink = MoescopeSink(address, tag="synthetic")
    sink.meta("toy-moe", num_experts=64, top_k=4)
    for i in range(n):
        layer = i % 24
        sink.route(layer, rng.sample(range(64), 4), token=i // 24)
    sink.close()
    print("sent %d records to %s" % (n, address))


if __name__ == "__main__":
    main()
