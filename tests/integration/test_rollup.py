"""Timeline roll-ups (docs/SCHEMA.md "Roll-ups"): a daemon database with timestamped records
from 40 days ago, 3 days ago and now is rolled up by a restarted moescoped into day, hour and
minute buckets; `timeline` and `layers --since/--until` (windows cut at bucket starts) give the
same totals as before, and the stored sparse blobs decode to the counts of the records."""
import calendar
import json
import os
import random
import sqlite3
import tempfile
import time

from harness import Daemon, check, cli_json, ingest, wait_for

E, K, LAYERS = 8, 2, 3


def decode_sparse(blob):
    """Independent reader of the version 3 timeline.hits encoding (docs/SCHEMA.md)."""
    words, x, shift = [], 0, 0
    for b in blob:
        x |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            words.append(x)
            x, shift = 0, 0
    n_experts, n = words[0], words[1]
    check(len(words) == 2 + 2 * n, "sparse blob has %d words for %d pairs" % (len(words), n))
    hits, nxt = [0] * n_experts, 0
    for i in range(n):
        e = nxt + words[2 + 2 * i]
        hits[e] = words[3 + 2 * i]
        nxt = e + 1
    return hits


def stored_rows(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = con.execute("SELECT tag, layer, bucket, seconds, tokens, hits FROM timeline").fetchall()
    con.close()
    return [(t, l, b, s, n, decode_sparse(h)) for t, l, b, s, n, h in rows]


def timeline_totals(db, *window):
    """{layer: (tokens, hits per expert)} summed over `moescope timeline` buckets."""
    out = {}
    for layer in [None] + list(range(LAYERS)):
        args = ["--db", db, "timeline"] + (["--layer", str(layer)] if layer is not None else [])
        rows = cli_json(*args, *window)["timeline"]
        out[layer] = (sum(r["tokens"] for r in rows), [sum(r["hits"][e] for r in rows) for e in range(E)])
    return out


def layer_hits(db, *window):
    doc = cli_json("--db", db, "layers", *window)
    return {l["layer"]: (l["tokens"], [e["hits"] for e in l["experts"]]) for l in doc["layers"] if l["tag"] == "all"}


def main():
    rng = random.Random(18)
    now = int(time.time())
    day = 86400
    d40 = (now - 40 * day) // day * day  # a UTC day 40 days ago
    h3 = (now - 3 * day) // 3600 * 3600  # an hour 3 days ago
    times = [d40 + 5000 + 37 * i for i in range(200)]  # within one day
    times += [h3 + 17 * i for i in range(400)]  # two hours (6800 s)
    times += [now - 600 + 3 * i for i in range(150)]  # the last ten minutes
    records, want = [], {l: [0] * E for l in range(LAYERS)}
    for t in times:
        for layer in range(LAYERS):
            experts = rng.sample(range(E), K)
            for e in experts:
                want[layer][e] += 1
            records.append({"layer": layer, "experts": experts, "ts": t + 0.25})
    with tempfile.TemporaryDirectory() as tmp:
        log, db = os.path.join(tmp, "r.ndjson"), os.path.join(tmp, "r.db")
        with open(log, "w") as f:
            f.write(json.dumps({"type": "meta", "num_experts": E, "top_k": K}) + "\n")
            f.writelines(json.dumps(r) + "\n" for r in records)
        keep = ["--retention-h", "0"]
        ingest(db, [log], len(records), *keep, "--rollup-hour-after-h", "0", "--rollup-day-after-d", "0")
        before = stored_rows(db)
        check({r[3] for r in before} == {60}, "minute buckets only before the roll-up")
        windows = [(), ("--since", str(d40 + day)), ("--until", str(h3 + 3600)), ("--since", str(h3), "--until", str(h3 + 7200))]
        timeline_before = {w: timeline_totals(db, *w) for w in windows}
        layers_before = {w: layer_hits(db, *w) for w in windows[1:]}

        # Restarted with the default roll-ups: the first flush folds the old buckets.
        with Daemon("--db", db, "--follow", log, "--flush-ms", "50", *keep) as d:
            wait_for(lambda: 86400 in {r[3] for r in stored_rows(db)}, "day buckets")
            d.stop()
        after = stored_rows(db)
        widths = {}
        for tag, layer, bucket, seconds, tokens, hits in after:
            widths.setdefault(seconds, set()).add(bucket)
            check(bucket % seconds == 0, "bucket %d not a multiple of its width %d" % (bucket, seconds))
        check(widths[86400] == {d40}, "one day bucket 40 days ago, got %s" % sorted(widths[86400]))
        check(widths[3600] == {h3, h3 + 3600}, "two hour buckets 3 days ago, got %s" % sorted(widths[3600]))
        check(min(widths[60]) >= now - 700, "only the recent minutes stay minute buckets")
        check(len(after) < len(before) / 5, "%d rows after, %d before" % (len(after), len(before)))
        for layer in range(LAYERS):
            got = [sum(r[5][e] for r in after if r[0] == "all" and r[1] == layer) for e in range(E)]
            check(got == want[layer], "layer %d: stored %s, records %s" % (layer, got, want[layer]))
        for w in windows:
            check(timeline_totals(db, *w) == timeline_before[w], "timeline totals changed for %s" % (w,))
        for w in windows[1:]:
            check(layer_hits(db, *w) == layers_before[w], "layers %s changed" % (w,))
        # A window cutting a rolled-up bucket counts it on the side of its start.
        inside = timeline_totals(db, "--since", str(h3 + 1800), "--until", str(h3 + 3600 + 1800))
        check(inside[0][0] == sum(r[4] for r in after if r[0] == "all" and r[1] == 0 and r[2] == h3 + 3600),
              "a window from mid-hour holds the next hour bucket, whole")
    print("ok")


if __name__ == "__main__":
    main()
