#!/usr/bin/env python3
"""`moescope sources`: restarts, last-seen time and activity per source in text, JSON and CSV;
`sources --forget NAME` removes a stale source's row and rejects (its records stay counted),
and refuses (exit 2) while moescoped holds the database or when NAME is not stored."""
import csv
import io
import os
import re
import sqlite3
import tempfile
import time

from harness import Daemon, check, cli, cli_json, wait_for


def records(n, layer_base=0):
    return "".join("%d,%d %d\n" % (layer_base + i % 3, i % 8, 8 + i % 5) for i in range(n))


def write(path, text, mode="a"):
    with open(path, mode) as f:
        f.write(text)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "a.log"), os.path.join(tmp, "b.log")
        db = os.path.join(tmp, "moe.db")
        write(a, "layer_id,expert_ids\n" + records(40))
        write(b, "layer_id,expert_ids\n" + records(25) + "1,99999\n")  # one reject
        t0 = time.time()
        with Daemon("--db", db, "--follow", a, "--follow", b, "--flush-ms", "50", "--poll-ms", "20") as d:
            def by_name():
                return {os.path.basename(s["source"]): s for s in cli_json("--db", db, "sources")["sources"]}

            wait_for(lambda: by_name()["a.log"]["records"] == 40 and by_name()["b.log"]["records"] == 25,
                     "both files committed")
            # A truncation (llama-server restarted) counts as a restart.
            write(a, "layer_id,expert_ids\n" + records(10), mode="w")
            wait_for(lambda: by_name()["a.log"]["restarts"] == 1, "the truncation counted as a restart")
            wait_for(lambda: by_name()["a.log"]["records"] == 50, "the rewritten file read")
            s = by_name()
            now = time.time()
            for name in ("a.log", "b.log"):
                check(t0 - 1 <= s[name]["last_seen"] <= now + 1,
                      "%s last seen %r, between %r and %r" % (name, s[name]["last_seen"], t0, now))
                check(s[name]["active"] is True, name + " is active")
                check(s[name]["last_seen_utc"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(s[name]["last_seen"]))),
                      "last_seen_utc matches last_seen: %r" % s[name])
            check(s["b.log"]["restarts"] == 0, "b.log never restarted")
            b_name = s["b.log"]["source"]

            # While the daemon holds the database: refused, nothing removed.
            p = cli("--db", db, "sources", "--forget", b_name, expect_rc=2)
            check("moescoped" in p.stderr and p.stdout == "", "refused while the daemon runs: %r" % p.stderr)
            check("b.log" in by_name(), "nothing forgotten while the daemon runs")
            d.stop()

        # Text (a block per source, within 100 columns) and CSV show restarts, last seen and active.
        text = cli("--db", db, "sources").stdout
        check(re.search(r"a\.log \(untagged, file\)\n  read .*\n  position  offset [0-9,]+, lag 0 bytes, 1 restarts "
                        r"\(truncations, rotations\)\n  seen      \S+Z, active\n", text), "text block: %s" % text)
        check(max(len(l) for l in text.splitlines()) <= 100, "sources text within 100 columns")
        rows = list(csv.DictReader(io.StringIO(cli("--db", db, "sources", "--csv").stdout)))
        by_csv = {os.path.basename(r["source"]): r for r in rows}
        check(by_csv["a.log"]["restarts"] == "1" and by_csv["b.log"]["restarts"] == "0", "CSV restarts: %r" % rows)
        check(by_csv["a.log"]["active"] == "yes", "CSV active: %r" % rows)

        # A source not seen for longer than the active window (300 s) is not active.
        with sqlite3.connect(db) as c:
            c.execute("UPDATE sources SET updated_at = ? WHERE name = ?", (time.time() - 1000, b_name))
        s = {os.path.basename(x["source"]): x for x in cli_json("--db", db, "sources")["sources"]}
        check(s["b.log"]["active"] is False and s["a.log"]["active"] is True, "stale b.log: %r" % s)
        check(time.time() - 1002 <= s["b.log"]["last_seen"] <= time.time() - 998, "last_seen is the stored time")

        # An unknown name: exit 2, the known names listed.
        p = cli("--db", db, "sources", "--forget", "file:/nowhere.log", expect_rc=2)
        check(b_name in p.stderr and s["a.log"]["source"] in p.stderr, "known names listed: %r" % p.stderr)
        # FILE arguments have nothing to forget.
        cli("sources", "--forget", b_name, a, expect_rc=2)

        layers_before = cli_json("--db", db, "layers")
        p = cli("--db", db, "sources", "--forget", b_name)
        check(b_name in p.stdout, "says what it forgot: %r" % p.stdout)
        names = [x["source"] for x in cli_json("--db", db, "sources")["sources"]]
        check(names == [s["a.log"]["source"]], "only a.log left: %r" % names)
        with sqlite3.connect(db) as c:
            left = c.execute("SELECT count(*) FROM rejects WHERE source = ?", (b_name,)).fetchone()[0]
        check(left == 0, "b.log's rejects removed (%d rows left)" % left)
        check(cli_json("--db", db, "layers")["global"] == layers_before["global"], "its records stay counted")
        cli("--db", db, "sources", "--forget", b_name, expect_rc=2)  # gone: not stored any more
    print("ok: sources shows restarts, last seen and activity; --forget removes a stale source safely")


if __name__ == "__main__":
    main()
