#!/usr/bin/env python3
"""Every input path gives the figures `moescope analyze` gives: the real Mixtral traces
through TCP, a Unix socket and stdin, per tag and for "all"; 16 concurrent TCP clients,
some disconnecting mid-line; the same routing in every format; a corpus of malformed
lines, each with its expected reject reason, none of which loses a good record."""
import os
import random
import re
import socket
import subprocess
import tempfile
import threading

from harness import MOESCOPED, SOURCE, Daemon, check, cli, cli_json, hits_by_layer, wait_for

MIXTRAL = os.path.join(SOURCE, "samples", "realdata", "mixtral")
HUMANEVAL = os.path.join(MIXTRAL, "humaneval_2_routing.jsonl")
GSM8K = os.path.join(MIXTRAL, "gsm8k_2_routing.jsonl")


def tcp_port(daemon):
    m = wait_for(lambda: re.search(r"listening on tcp://127\.0\.0\.1:(\d+)", daemon.output()), "the TCP port")
    return int(m.group(1))


def send_tcp(port, data, chunk=None, rng=None):
    with socket.create_connection(("127.0.0.1", port)) as s:
        send_all(s, data, chunk, rng)


def send_unix(path, data):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        send_all(s, data, None, None)


def send_all(s, data, chunk, rng):
    pos = 0
    while pos < len(data):
        n = rng.randint(1, chunk) if rng else len(data)
        s.sendall(data[pos:pos + n])
        pos += n


def total_records(db):
    return sum(s["records"] for s in cli_json("--db", db, "sources")["sources"])


def compare_tags(db, files, tags, compare_ema_tags):
    want = {t: cli_json("analyze", *files, "--tag", t) for t in tags}
    for t in tags:
        got = cli_json("--db", db, "layers", "--tag", t)
        check(hits_by_layer(got, t) == hits_by_layer(want[t], t), "tag %s: hits differ from analyze" % t)
        for a, b in zip(got["layers"], want[t]["layers"]):
            for k in ("tokens", "selections", "gini", "entropy_bits", "cv", "std"):
                check(a[k] == b[k], "tag %s layer %d %s: %r vs %r" % (t, a["layer"], k, a[k], b[k]))
            wa = {e["expert"]: e["weight_mass"] for e in a["experts"]}
            wb = {e["expert"]: e["weight_mass"] for e in b["experts"]}
            for e in wa:
                check(abs(wa[e] - wb[e]) < 1e-9, "tag %s weight mass" % t)
            if t in compare_ema_tags:
                ea = {e["expert"]: e["ema"] for e in a["experts"]}
                eb = {e["expert"]: e["ema"] for e in b["experts"]}
                for e in ea:
                    check(abs(ea[e] - eb[e]) <= 1e-15 + 1e-9 * eb[e], "tag %s EMA differs" % t)
        check(got["global"]["tokens"] == want[t]["global"]["tokens"], "tag %s global tokens" % t)


def mixtral_over_sockets_and_stdin(tmp):
    he, gs = open(HUMANEVAL, "rb").read(), open(GSM8K, "rb").read()
    db = os.path.join(tmp, "sockets.db")
    sock = os.path.join(tmp, "moe.sock")
    with Daemon("--db", db, "--listen", "tcp://127.0.0.1:0", "--listen", "unix:" + sock, "--flush-ms", "50") as d:
        port = tcp_port(d)
        wait_for(lambda: os.path.exists(sock), "the Unix socket")
        check(oct(os.stat(sock).st_mode & 0o777) == "0o660", "socket mode 0660")
        t1 = threading.Thread(target=send_tcp, args=(port, he, 4096, random.Random(1)))
        t2 = threading.Thread(target=send_unix, args=(sock, gs))
        t1.start(), t2.start(), t1.join(), t2.join()
        wait_for(lambda: total_records(db) == 10779 + 7889, "all Mixtral records committed")
        d.stop()
    check(not os.path.exists(sock), "socket file removed on exit")
    compare_tags(db, [HUMANEVAL, GSM8K], ["all", "humaneval", "gsm8k"], {"humaneval", "gsm8k"})
    tags = {t["tag"]: t["records"] for t in cli_json("--db", db, "tags")["tags"]}
    check(tags == {"all": 18668, "humaneval": 10779, "gsm8k": 7889}, "tags: %r" % tags)

    db2 = os.path.join(tmp, "stdin.db")
    p = subprocess.run([MOESCOPED, "--db", db2, "--stdin"], input=he + gs, capture_output=True, timeout=120)
    check(p.returncode == 0, "moescoped --stdin exits 0 at end of input: %s" % p.stderr.decode())
    compare_tags(db2, [HUMANEVAL, GSM8K], ["all", "humaneval", "gsm8k"], {"all", "humaneval", "gsm8k"})
    print("  Mixtral via TCP + Unix socket and via stdin == analyze (all, humaneval, gsm8k)")


def concurrent_clients(tmp):
    db = os.path.join(tmp, "clients.db")
    clients, per_client = 16, 3000
    expected = {}
    payloads = []
    for c in range(clients):
        rng = random.Random(100 + c)
        lines = []
        for i in range(per_client):
            layer = rng.randrange(8)
            experts = rng.sample(range(32), 4)
            for e in experts:
                expected[(layer, e)] = expected.get((layer, e), 0) + 1
            lines.append('{"layer": %d, "experts": %s, "token": %d}' % (layer, experts, i))
        data = ("\n".join(lines) + "\n").encode()
        if c % 2:
            data += b'{"layer": 1, "experts": [1, 2'  # disconnect mid-line
        payloads.append(data)
    with Daemon("--db", db, "--listen", "tcp://127.0.0.1:0", "--flush-ms", "50") as d:
        port = tcp_port(d)
        threads = [threading.Thread(target=send_tcp, args=(port, payloads[c], 1500, random.Random(c)))
                   for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_for(lambda: total_records(db) == clients * per_client, "all client records")
        wait_for(lambda: cli_json("--db", db, "sources")["sources"][0]["rejects"].get("partial_line", {}).get("count")
                 == clients // 2, "partial lines counted")
        d.stop()
    src = cli_json("--db", db, "sources")["sources"][0]
    check(src["rejected"] == clients // 2, "only the partial lines are rejected")
    check(src["records"] == clients * per_client, "records")
    got = hits_by_layer(cli_json("--db", db, "layers"))
    flat = {(l, e): h for l, ex in got.items() for e, h in ex.items() if h}
    check(flat == expected, "per-layer hits equal what the clients sent")
    print("  16 concurrent TCP clients, 8 cut mid-line: %d records exact, %d partial lines" %
          (clients * per_client, clients // 2))


def formats_agree():
    nd = os.path.join(SOURCE, "samples", "ndjson", "routing.ndjson")
    doc = os.path.join(SOURCE, "samples", "router_pipeline", "routing_doc.json")
    ev = os.path.join(SOURCE, "samples", "eval_callback", "eval_callback.txt")
    a = cli_json("analyze", nd)
    check(hits_by_layer(a) == hits_by_layer(cli_json("analyze", ev)), "NDJSON == eval-callback (all)")
    check(hits_by_layer(cli_json("analyze", nd, "--tag", "code"), "code") ==
          hits_by_layer(cli_json("analyze", doc, "--tag", "code"), "code"), "NDJSON == router document (code)")
    for f, fmt in ((nd, "ndjson"), (ev, "eval-callback")):
        check(hits_by_layer(cli_json("analyze", f, "--format", fmt)) == hits_by_layer(a), "--format %s" % fmt)
    # Forcing the wrong format rejects or skips instead of inventing records: nothing
    # recognised, exit 3 naming the file.
    wrong = cli("analyze", nd, "--format", "llama-csv", "--json", expect_rc=3)
    check("no record recognised" in wrong.stderr and wrong.stdout == "",
          "NDJSON read as llama-csv yields no records: %r" % wrong.stderr)
    check(len(a["gate_pairs"]) == 1 and a["gate_pairs"][0]["count"] == 4, "NDJSON gate_input pairs")
    print("  the same routing in NDJSON, router-pipeline JSON and eval-callback text gives the same hits")


def malformed_corpus(tmp):
    cases = []
    for raw in open(os.path.join(SOURCE, "tests", "data", "malformed_corpus.txt"), encoding="utf-8"):
        if raw.startswith("#") or not raw.strip():
            continue
        reason, line = raw.rstrip("\n").split("\t", 1)
        cases.append((reason, line.encode("latin-1").decode("unicode_escape").encode("latin-1")))
    # The context every case is judged in: 16 experts stated, layer 3 has top-2, gate vectors have 3 values.
    prefix = (b'{"type": "meta", "num_experts": 16}\n3,1 2\n{"layer": 3, "experts": [3, 4]}\n'
              b"gate_input,20,0,1 2 3\n")
    for reason, line in cases:
        path = os.path.join(tmp, "case.log")
        with open(path, "wb") as f:
            f.write(prefix + line + b"\n3,5 6\n")
        src = cli_json("analyze", path)["sources"][0]
        got = {k: v["count"] for k, v in src["rejects"].items()}
        check(got == {reason: 1}, "%r: rejects %r, wanted %s" % (line, got, reason))
        check(src["records"] == 3, "%r: good records around it must all count (%d)" % (line, src["records"]))
    # All of them interleaved with good records over one TCP connection.
    db = os.path.join(tmp, "corpus.db")
    body = prefix + b"".join(line + b"\n3,5 6\n" for _, line in cases)
    with Daemon("--db", db, "--listen", "tcp://127.0.0.1:0", "--flush-ms", "50") as d:
        send_tcp(tcp_port(d), body)
        wait_for(lambda: total_records(db) == 2 + len(cases), "good records between bad ones")
        d.stop()
    src = cli_json("--db", db, "sources")["sources"][0]
    want = {}
    for reason, _ in cases:
        want[reason] = want.get(reason, 0) + 1
    got = {k: v["count"] for k, v in src["rejects"].items()}
    check(got == want, "daemon reject counts %r != %r" % (got, want))
    check(all(len(v["samples"]) >= 1 for v in src["rejects"].values()), "samples kept per reason")
    text = cli("--db", db, "sources").stdout
    check("duplicate_expert: 2" in text and "e.g. 3,4 4" in text, "sources table shows reasons and samples")
    print("  %d malformed lines, %d reasons: each rejected as expected, no good record lost" % (len(cases), len(want)))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        mixtral_over_sockets_and_stdin(tmp)
        concurrent_clients(tmp)
        formats_agree()
        malformed_corpus(tmp)
    print("ok: inputs")


if __name__ == "__main__":
    main()
