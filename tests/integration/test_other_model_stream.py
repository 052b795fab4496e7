#!/usr/bin/env python3
"""A stream of another model is refused at its first record (issue 28): a database of a
top-2, 8-expert model gets a top-4 log, or a 16-expert one, by `import`, by a followed file
and by a TCP connection. Before: thousands of topk_changed / expert_out_of_range rejects.
Now: one other_model reject naming both facts and suggesting another --db (import: exit 2,
nothing saved; the daemon: one log line, the rest of the stream unread, the connection
closed), and the database's counts unchanged."""
import json
import os
import re
import socket
import tempfile

from harness import Daemon, check, cli, cli_json, committed_records, wait_for


def log(path, k, E, n=400, meta=True, top=False):
    with open(path, "w") as f:
        if meta:
            f.write(json.dumps({"type": "meta", "model_id": "m%d" % E, "num_experts": E, "top_k": k}) + "\n")
        for i in range(n):
            ids = [(i + j * 3) % E for j in range(k)]
            f.write(json.dumps({"layer": i % 2, "experts": [E - 1 - e for e in ids] if top else ids}) + "\n")


def sources(db):
    return {s["source"]: s for s in cli_json("--db", db, "sources")["sources"]}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        base, wide, more = (os.path.join(tmp, n) for n in ("base.ndjson", "wide.ndjson", "k4.ndjson"))
        log(base, 2, 8)
        log(wide, 2, 16, meta=False, top=True)  # its first record names expert 15
        log(more, 4, 8, meta=False)
        db = os.path.join(tmp, "m.db")
        cli("import", base, "--db", db)
        before = cli_json("--db", db, "layers")["layers"]

        for path, ours, theirs in ((more, "select 4 experts", "top-k 2"), (wide, "name expert 1", "8 experts")):
            p = cli("import", path, "--db", db, expect_rc=2)
            lines = p.stderr.strip().splitlines()
            check(len(lines) == 1 and "stream refused" in lines[0] and theirs in lines[0] and
                  "another --db" in lines[0], "import %s: %r" % (path, p.stderr))
            check(re.search(ours.replace("1", r"\d+"), lines[0]), "names the stream's fact: %r" % lines[0])
        check(cli_json("--db", db, "layers")["layers"] == before, "import saved nothing")
        check(list(sources(db)) == [base], "no source row for the refused files")

        # The daemon: a followed file and a TCP connection of the other model.
        with Daemon("--db", db, "--follow", more, "--listen", "tcp://127.0.0.1:0", "--flush-ms", "50",
                    "--reject-summary-s", "1") as d:
            port = int(wait_for(lambda: re.search(r"listening on tcp://127\.0\.0\.1:(\d+)", d.output()),
                                "the port").group(1))
            wait_for(lambda: sources(db).get(more, {}).get("rejects", {}).get("other_model"), "the refusal")
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.settimeout(10)
                try:
                    s.sendall(open(wide, "rb").read())
                    closed = s.recv(1) == b""
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                check(closed, "the connection is closed by the daemon")
            wait_for(lambda: any(v.get("rejects", {}).get("other_model") for k, v in sources(db).items()
                                 if k.startswith("tcp://")), "the connection's refusal")
            d.stop()
            out = d.output()
        for name, s in sources(db).items():
            if name == base:
                continue
            check(set(s["rejects"]) == {"other_model"} and s["rejects"]["other_model"]["count"] == 1,
                  "%s: one other_model reject, no other: %r" % (name, s["rejects"]))
            check(s["records"] == 0, "%s: nothing counted" % name)
        check(out.count("other_model") == 2 and "top-k 2" in out, "one log line per source:\n" + out)
        check(cli_json("--db", db, "layers")["layers"] == before, "the database's counts unchanged")
        check(committed_records(db) == 400, "400 records, all from the base log")
    print("ok: another model's stream refused at its first record (import, file, TCP)")


if __name__ == "__main__":
    main()
