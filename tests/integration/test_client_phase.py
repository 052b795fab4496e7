"""The stdlib client splits a forwarded engine response into prefill and decode by the
request's prompt length (samples/clients/stream_records.py forward_response(...,
prompt_tokens=N)), for vLLM's nested list and SGLang's base64 int32 form; moescoped counts
each token's experts under TAG@prefill / TAG@decode (docs/INPUTS.md "Engine recorders")."""
import array
import base64
import os
import sys
import tempfile

from harness import SOURCE, Daemon, check, cli_json, committed_records, free_port, wait_for

sys.path.insert(0, os.path.join(SOURCE, "samples", "clients"))
from stream_records import MoescopeSink  # noqa: E402

LAYERS, TOP_K, E = 3, 2, 8


def response(n_tokens, seed):
    return [[[(seed + t * 3 + l * 5 + j) % E for j in range(TOP_K)] for l in range(LAYERS)]
            for t in range(n_tokens)]


def main():
    a, b = response(7, 1), response(5, 4)  # prompt 4 + 3 generated; prompt 2 + 3 generated
    b64 = base64.b64encode(array.array("i", [e for t in b for l in t for e in l]).tobytes()).decode()
    with tempfile.TemporaryDirectory() as tmp:
        db, port = os.path.join(tmp, "p.db"), free_port()
        with Daemon("--db", db, "--listen", "tcp://127.0.0.1:%d" % port, "--flush-ms", "50") as d:
            d.wait_ready()
            sink = MoescopeSink("tcp://127.0.0.1:%d" % port, tag="chat")
            sink.forward_response(a, request="r1", prompt_tokens=4)
            sink.forward_response(b64, request="r2", num_layers=LAYERS, top_k=TOP_K, prompt_tokens=2)
            sink.close()
            wait_for(lambda: committed_records(db) == (7 + 5) * LAYERS, "all tokens counted")
            d.stop()
        tags = {t["tag"]: t for t in cli_json("--db", db, "tags")["tags"]}
        want = {"prefill": a[:4] + b[:2], "decode": a[4:] + b[2:]}
        for phase, toks in want.items():
            doc = cli_json("--db", db, "layers", "--tag", "chat", "--phase", phase)
            got = {l["layer"]: {e["expert"]: e["hits"] for e in l["experts"]} for l in doc["layers"]
                   if l["tag"] == "chat@" + phase}
            for layer in range(LAYERS):
                ref = [0] * E
                for t in toks:
                    for e in t[layer]:
                        ref[e] += 1
                check([got[layer].get(e, 0) for e in range(E)] == ref,
                      "%s layer %d hits %s, want %s" % (phase, layer, got.get(layer), ref))
            check(("chat@" + phase) in tags, "tags lists chat@%s: %s" % (phase, sorted(tags)))
    print("ok: forwarded responses split by prompt length into prefill and decode")


if __name__ == "__main__":
    main()
