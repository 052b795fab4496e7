"""moescoped --affinity and --diff A:B (issue 30, "Live where it makes sense"): the daemon
follows tokens while it counts, and `moescope affinity --db` and `moescope diff --db` answer
from what it stored with the numbers `moescope affinity FILE` and `moescope diff FILE FILE`
give on the same records, and the independent numpy reference of tracing_reference.py; the
gauges carry the same numbers; a restart neither loses nor counts anything twice; records
that never meet their partner are pushed out of a bounded window and counted (docs/FIGURES.md
"Affinity", "Routing diff"; docs/OPERATIONS.md "Following tokens live")."""
import json
import os
import re
import shutil
import sqlite3
import tempfile

import tracing_reference as ref
from harness import Daemon, check, cli, cli_json, committed_records, free_port, scrape, wait_for
from test_decisions import MIXTRAL

GSM8K = [p for p in MIXTRAL if "gsm8k" in p][0]
HUMANEVAL = [p for p in MIXTRAL if "humaneval" in p][0]


def lines_of(path):
    return [l for l in open(path) if l.strip()]


def run_daemon(db, files, n_records, *extra):
    """moescoped on `files` until n_records are committed; returns the last /metrics text."""
    port = free_port()
    follows = [a for f in files for a in ("--follow", f)]
    with Daemon("--db", db, *follows, "--flush-ms", "50", "--metrics", ":%d" % port, *extra) as d:
        d.wait_ready()  # a restart finds n_records committed already
        wait_for(lambda: committed_records(db) == n_records, "%d records in %s" % (n_records, db))
        text = wait_for(lambda: scrape(port), "/metrics")
        d.stop()
    return text


def gauge(text, name, labels):
    m = re.search(re.escape(name) + r"\{" + re.escape(labels) + r"\} (\S+)", text)
    check(m, "no %s{%s} in /metrics" % (name, labels))
    return float(m.group(1))


def same_transitions(got, want, what):
    """Counts exactly; P(b|a), lift and MI are computed by the same code from equal counts,
    so they are equal too."""
    check(got["transitions"] == want["transitions"], what + ": transitions differ")
    for g, w in zip(got["pairs"], want["pairs"]):
        for k in ("from_layer", "to_layer", "tokens", "mutual_information_bits", "top_lift"):
            check(g[k] == w[k], "%s pair %d %s: %r vs %r" % (what, w["from_layer"], k, g[k], w[k]))
    check(len(got["pairs"]) == len(want["pairs"]), what + ": pairs")


def affinity_case(tmp):
    n = len(lines_of(GSM8K)) + len(lines_of(HUMANEVAL))
    db = os.path.join(tmp, "aff.db")
    text = run_daemon(db, [GSM8K, HUMANEVAL], n, "--affinity")
    for tag, path in (("gsm8k", GSM8K), ("humaneval", HUMANEVAL)):
        live = cli_json("--db", db, "affinity", "--tag", tag)
        files = cli_json("affinity", path)
        same_transitions(live, files, "affinity --db --tag " + tag)
        # The independent reference: numpy from the records.
        want = ref.affinity(ref.read_records(path), 0.5)
        wt = {(t["from_layer"], t["a"], t["b"]): t["count"] for t in want["transitions"]}
        gt = {(t["from_layer"], t["a"], t["b"]): t["count"] for t in live["transitions"]}
        check(gt == wt, "affinity --db --tag %s == numpy reference counts" % tag)
        for g, w in zip(live["pairs"], want["pairs"]):
            check(abs(g["mutual_information_bits"] - w["mutual_information_bits"]) <= 1e-9,
                  "MI of %s pair %d vs numpy" % (tag, w["from_layer"]))
            check(g["recall"] is None and g["fitted"] is None, "no prefetch figures on a database")
            labels = 'tag="%s",from_layer="%d",to_layer="%d"' % (tag, g["from_layer"], g["to_layer"])
            check(gauge(text, "moescope_affinity_mutual_information_bits", labels)
                  == g["mutual_information_bits"], "MI gauge of %s" % labels)
            check(gauge(text, "moescope_affinity_tokens_total", labels) == g["tokens"],
                  "tokens gauge of %s" % labels)
    # "all": each tag followed apart, as each FILE argument is.
    before = cli_json("--db", db, "affinity")
    same_transitions(before, cli_json("affinity", GSM8K, HUMANEVAL), "affinity --db (all)")
    check(gauge(text, "moescope_affinity_unpaired_records_total", 'reason="duplicate"') == 0,
          "no duplicates")
    # The prefetch evaluation needs the record order: refused on a database, one line, exit 2.
    p = cli("--db", db, "affinity", "--split", "0.3", expect_rc=2)
    check("--split" in p.stderr and p.stderr.count("\n") == 1, "--split on a database: %r" % p.stderr)
    # The CSV and the text table answer from the database too.
    check(cli("--db", db, "affinity", "--csv").stdout.count("\n") == len(before["transitions"]) + 1,
          "affinity --db --csv rows")
    check("moescoped --affinity" in cli("--db", db, "affinity").stdout, "text names its source")
    # Only affinity and diff load the transition tables (E x E per layer pair and tag): a
    # copy whose tables are corrupt still answers every other query, and affinity refuses.
    bad = os.path.join(tmp, "bad.db")
    shutil.copyfile(db, bad)
    con = sqlite3.connect(bad)
    con.execute("UPDATE transitions SET from_layer = -1 - from_layer")
    con.commit()
    con.close()
    check(cli_json("--db", bad, "layers") == cli_json("--db", db, "layers"),
          "layers --db does not read the transition tables")
    p = cli("--db", bad, "affinity", expect_rc=None)
    check(p.returncode != 0 and "out of range" in p.stderr, "affinity reads them: %r" % p.stderr)

    # A restart with nothing new to read counts nothing twice.
    run_daemon(db, [GSM8K, HUMANEVAL], n, "--affinity")
    check(cli_json("--db", db, "affinity") == before, "restart: transitions unchanged")

    # A file that grows across a restart: the counts are those of the whole file (the cut
    # falls between requests, so no token waits across it).
    grown = os.path.join(tmp, "grown.jsonl")
    lines = lines_of(GSM8K)
    cut = next(i for i, l in enumerate(lines) if json.loads(l)["problem_id"] != json.loads(lines[0])["problem_id"])
    with open(grown, "w") as f:
        f.writelines(lines[:cut])
    db2 = os.path.join(tmp, "grown.db")
    run_daemon(db2, [grown], cut, "--affinity")
    with open(grown, "a") as f:
        f.writelines(lines[cut:])
    run_daemon(db2, [grown], len(lines), "--affinity")
    same_transitions(cli_json("--db", db2, "affinity", "--tag", "gsm8k"), cli_json("affinity", GSM8K),
                     "grown across a restart")

    # Without --affinity the database keeps no transitions: one line, exit 3.
    plain = os.path.join(tmp, "plain.db")
    run_daemon(plain, [GSM8K], len(lines))
    p = cli("--db", plain, "affinity", expect_rc=3)
    check("--affinity" in p.stderr and p.stderr.count("\n") == 1, "no transitions: %r" % p.stderr)


def shadow_copy(tmp):
    """gsm8k as run A, and run B, tag "shadow": the same requests, where every fourth token
    of each request has its first expert replaced by one it did not select."""
    path = os.path.join(tmp, "shadow.jsonl")
    with open(path, "w") as f:
        for line in lines_of(GSM8K):
            o = json.loads(line)
            o["dataset"] = "shadow"
            if o["token_idx"] % 4 == 0:
                o["experts"][0] = next(e for e in range(8) if e not in o["experts"])
            f.write(json.dumps(o) + "\n")
    return path


def diff_case(tmp):
    shadow = shadow_copy(tmp)
    n = 2 * len(lines_of(GSM8K))
    db = os.path.join(tmp, "diff.db")
    # Each file is read whole in turn at worst: the window holds one run.
    text = run_daemon(db, [GSM8K, shadow], n, "--diff", "gsm8k:shadow", "--diff-window", "20000")
    live = cli_json("--db", db, "diff", "--tag", "gsm8k", "--vs", "shadow")
    files = cli_json("diff", "--tag", "gsm8k", "--vs", "shadow", GSM8K, shadow)
    want = ref.diff(ref.read_records(GSM8K), ref.read_records(shadow))
    check(len(live["layers"]) == len(files["layers"]) == len(want["layers"]), "diff layers")
    for g, f, w in zip(live["layers"], files["layers"], want["layers"]):
        where = "diff --db layer %s" % g.get("layer", "all")
        check(g.get("layer") == f.get("layer") == w.get("layer"), where + ": layer ids")
        for k in ("aligned", "only_a", "only_b"):
            check(g[k] == f[k] == w[k], "%s %s: %r, files %r, numpy %r" % (where, k, g[k], f[k], w[k]))
        # top-2: overlaps are 0, 1/2 or 1 and their sums exact in any order; Jaccard's
        # thirds are summed in the daemon's interleaving, so within rounding.
        for k in ("top1_agreement", "overlap", "exact_agreement"):
            check(g[k] == f[k], "%s %s: %r vs files %r" % (where, k, g[k], f[k]))
            check(abs(g[k] - w[k]) <= 1e-12, "%s %s vs numpy" % (where, k))
        check(abs(g["jaccard"] - f["jaccard"]) <= 1e-12 * f["jaccard"], where + " jaccard")
        if "layer" in g:
            labels = 'a="gsm8k",b="shadow",layer="%d"' % g["layer"]
            check(gauge(text, "moescope_diff_overlap", labels) == g["overlap"], "overlap gauge " + labels)
    check(abs(live["layers"][-1]["exact_agreement"] - 0.75) < 0.02, "a quarter of the tokens differ")
    check(live["verdict"]["min_overlap"] == files["verdict"]["min_overlap"], "same verdict")
    cli("--db", db, "diff", "--tag", "gsm8k", "--vs", "shadow", "--fail-below", "0.99", expect_rc=4)
    p = cli("--db", db, "diff", "--tag", "gsm8k", "--vs", "other", expect_rc=3)
    check("--diff gsm8k:other" in p.stderr and p.stderr.count("\n") == 1, "unknown pair: %r" % p.stderr)
    # Restart: nothing new, nothing counted twice.
    run_daemon(db, [GSM8K, shadow], n, "--diff", "gsm8k:shadow", "--diff-window", "20000")
    check(cli_json("--db", db, "diff", "--tag", "gsm8k", "--vs", "shadow") == live, "restart: diff unchanged")


def bounded_case(tmp):
    """Run B never comes: at most --diff-window records of A wait, the rest are pushed out
    and counted, whatever the length of the log."""
    path = os.path.join(tmp, "lonely.jsonl")
    with open(path, "w") as f:
        for t in range(3000):
            f.write(json.dumps({"tag": "A", "request": "r%d" % (t // 100), "token": t % 100,
                                "layer": 0, "experts": [t % 8, (t + 1) % 8]}) + "\n")
    db = os.path.join(tmp, "lonely.db")
    text = run_daemon(db, [path], 3000, "--diff", "A:B", "--diff-window", "100")
    check(gauge(text, "moescope_diff_waiting_records", 'a="A",b="B"') == 100, "waiting == window")
    check(gauge(text, "moescope_diff_evicted_records_total", 'a="A",b="B",layer="0"') == 2900,
          "the rest evicted and counted")
    check(gauge(text, "moescope_diff_unmatched_records_total", 'a="A",b="B",layer="0",run="a"') == 2900,
          "evicted records are unmatched records of A")
    p = cli("--db", db, "diff", "--tag", "A", "--vs", "B", expect_rc=3)
    check("2900 records without a partner" in p.stderr, "nothing aligned: %r" % p.stderr)
    # Usage errors: one line, exit 2.
    for args in (["--diff", "A"], ["--diff", "A:A"], ["--diff-window", "5"], ["--affinity-window", "5"]):
        d = Daemon("--db", os.path.join(tmp, "bad.db"), "--stdin", *args)
        rc = d.proc.wait(timeout=30)
        out = d.output().strip()
        check(rc == 2 and out.count("\n") == 0, "%s: rc %d, %r" % (args, rc, out))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        affinity_case(tmp)
        diff_case(tmp)
        bounded_case(tmp)
    print("ok: live affinity and diff == files == numpy; gauges; restarts; bounded window")


if __name__ == "__main__":
    main()
