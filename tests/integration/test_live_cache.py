"""The daemon's live expert-cache simulation (moescoped --cache-capacity): lru and lfu hit
counts per (tag, layer, capacity) equal the plain-Python reference of test_decisions.py and
`moescope cache` on the same files; static answers from a database for any capacity; merge adds the counters; the
counters survive a restart and appear as Prometheus metrics (docs/FIGURES.md "Cache
simulation")."""
import os
import re
import tempfile
from collections import defaultdict

from harness import Daemon, SOURCE, check, cli, cli_json, free_port, ingest, scrape, wait_for
from test_decisions import LLAMA, MIXTRAL, lfu, lru, read_llama, read_mixtral, static

CAPS = [2, 4]


def sequences(recs, tag):
    seqs = defaultdict(list)
    for r in recs:
        if tag == "all" or r[0] == tag:
            seqs[r[1]].extend(r[2])
    return seqs


def rows_of(doc):
    return {(r.get("layer"), r["capacity"], r["policy"]): r for r in doc["results"]}


def check_against_reference(db, recs, tag, files):
    doc = cli_json("--db", db, "cache", "--tag", tag)
    got = rows_of(doc)
    seqs = sequences(recs, tag)
    for C in CAPS:
        for name, f in (("lru", lru), ("lfu", lfu), ("static", static)):
            tot = tot_hits = 0
            for layer, seq in seqs.items():
                row = got[(layer, C, name)]
                h = f(seq, C)
                check(row["accesses"] == len(seq) and row["hits"] == h,
                      "live %s C=%d layer %d tag %s: %d/%d hits, reference %d/%d"
                      % (name, C, layer, tag, row["hits"], row["accesses"], h, len(seq)))
                tot += len(seq)
                tot_hits += h
            pooled = got[(None, C, name)]
            check(pooled["hits"] == tot_hits and pooled["accesses"] == tot,
                  "pooled %s C=%d tag %s" % (name, C, tag))
    check(len(got) == len(CAPS) * 3 * (len(seqs) + 1), "rows: capacity x {lru,lfu,static} x layers")
    # The same numbers as the simulation on the files themselves.
    files_doc = rows_of(cli_json("cache", *files, "--tag", tag, "--capacity", "2,4",
                                 "--policy", "lru,lfu,static"))
    for k, row in got.items():
        check(files_doc[k]["hits"] == row["hits"], "database == files for %s" % (k,))
    return got




def main():
    mix, llama = read_mixtral(), read_llama()
    with tempfile.TemporaryDirectory() as tmp:
        # Two files followed at once: the per-tag sequences (one dataset per file) are
        # deterministic, the interleaving of "all" is not, so the tags are compared.
        db = ingest(os.path.join(tmp, "mix.db"), MIXTRAL, len(mix), "--cache-capacity", "2,4")
        for tag in ("gsm8k", "humaneval"):
            check_against_reference(db, mix, tag, MIXTRAL)
        db2 = ingest(os.path.join(tmp, "llama.db"), [LLAMA], len(llama), "--cache-capacity", "4,2")
        before = check_against_reference(db2, llama, "all", [LLAMA])

        # Usage: opt needs the sequence; a capacity not simulated live is named.
        out = cli("--db", db2, "cache", "--policy", "opt", expect_rc=2).stderr
        check("FILE" in out, "opt on a database explains FILE arguments: %r" % out)
        out = cli("--db", db2, "cache", "--capacity", "3", "--policy", "lru", expect_rc=2).stderr
        check("--cache-capacity): 2,4" in out, "missing capacity names the live ones: %r" % out)
        got3 = rows_of(cli_json("--db", db2, "cache", "--capacity", "3", "--policy", "static"))
        seqs = sequences(llama, "all")
        for layer, seq in seqs.items():
            check(got3[(layer, 3, "static")]["hits"] == static(seq, 3), "static C=3 from hits")
        check("--cache-capacity" in cli("--db", os.path.join(tmp, "mix.db"), "cache", "--tag",
                                        "gsm8k", "--capacity", "8", "--policy", "lfu",
                                        expect_rc=2).stderr, "hint names the daemon option")

        # A restart keeps the counters (the cache contents start cold); Prometheus shows them.
        port = free_port()
        with Daemon("--db", db2, "--follow", LLAMA, "--cache-capacity", "2,4", "--flush-ms", "50",
                    "--metrics", ":%d" % port) as d:
            d.wait_ready()
            text = wait_for(lambda: (lambda t: "moescope_cache_hit_rate" in t and t)(scrape(port)),
                            "cache metrics")
            layer = min(seqs)
            for name, f in (("lru", lru), ("lfu", lfu)):
                m = re.search(r'moescope_cache_hits_total\{tag="all",layer="%d",policy="%s",'
                              r'capacity="4"\} (\S+)' % (layer, name), text)
                check(m and float(m.group(1)) == f(seqs[layer], 4), "Prometheus %s hits" % name)
                m = re.search(r'moescope_cache_hit_rate\{tag="all",layer="all",policy="%s",'
                              r'capacity="2"\} (\S+)' % name, text)
                want = sum(f(s, 2) for s in seqs.values()) / sum(len(s) for s in seqs.values())
                check(m and abs(float(m.group(1)) - want) < 1e-12, "Prometheus pooled %s rate" % name)
            d.stop()
        after = rows_of(cli_json("--db", db2, "cache"))
        check(after == before, "counters unchanged across a restart with nothing new to read")

        # merge adds the live counters of the node databases (the contents are not mergeable).
        db3 = ingest(os.path.join(tmp, "llama3.db"), [LLAMA], len(llama), "--cache-capacity", "2,4")
        merged = os.path.join(tmp, "merged.db")
        cli("merge", db2, db3, "--out", merged)
        both = rows_of(cli_json("--db", merged, "cache", "--policy", "lru,lfu"))
        for k, row in both.items():
            check(row["hits"] == 2 * before[k]["hits"] and row["accesses"] == 2 * before[k]["accesses"],
                  "merged counters are the sum for %s" % (k,))

        # A bad capacity is a one-line usage error.
        for bad in ("0", "x", "4,,8", "1,2,3,4,5,6,7,8,9"):
            d = Daemon("--db", os.path.join(tmp, "bad.db"), "--stdin", "--cache-capacity", bad)
            rc = d.proc.wait(timeout=30)
            out = d.output().strip()
            check(rc == 2 and "--cache-capacity" in out and out.count("\n") == 0,
                  "--cache-capacity %s: rc %d, %r" % (bad, rc, out))
    print("ok: live lru/lfu == reference per tag and layer; static from hits; restart; Prometheus")


if __name__ == "__main__":
    main()
