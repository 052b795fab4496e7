#!/usr/bin/env python3
"""Model facts (docs/SCHEMA.md "meta"): a daemon restarted on a database with a different
--ema-decay, --bucket-s or --num-experts refuses to start (exit 2, one line naming the option
and both values) instead of mixing two settings; --reset starts over and then equals a fresh
run; `moescope merge` refuses databases with different facts and a database counted twice,
writing nothing."""
import os
import shutil
import subprocess
import tempfile

from harness import MOESCOPE, MOESCOPED, SOURCE, Daemon, check, cli_json, committed_records, ingest, wait_for

SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
RECORDS = 396  # routing records in SAMPLE; ids up to 31 (32 experts inferred)


def restart(db, *extra):
    """A daemon started on `db` that is expected to refuse: its exit code and stderr."""
    p = subprocess.run([MOESCOPED, "--db", db, "--follow", SAMPLE, *extra], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stderr


def refused(db, extra, option, ours, stored):
    rc, err = restart(db, *extra)
    want = "moescoped: %s %s differs from %s stored in %s (use --reset" % (option, ours, stored, db)
    check(rc == 2 and want in err and err.count("\n") == 1, "%s refused: rc %d, %r" % (option, rc, err))


def figures(db):
    """Everything per layer that does not depend on arrival time."""
    return cli_json("--db", db, "layers")["layers"], cli_json("--db", db, "experts")


def merge(*args):
    return subprocess.run([MOESCOPE, "merge", *args], capture_output=True, text=True, timeout=120)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        a = ingest(os.path.join(tmp, "a.db"), [SAMPLE], RECORDS, "--ema-decay", "0.999")
        refused(a, ["--ema-decay", "0.99999"], "--ema-decay", "0.99999", "0.999")
        refused(a, ["--ema-decay", "0.999", "--bucket-s", "30"], "--bucket-s", "30", "60")
        # Ids up to 31 were seen: stating fewer experts contradicts them, more does not.
        refused(a, ["--ema-decay", "0.999", "--num-experts", "16"], "--num-experts", "16",
                "32 (largest id + 1)")
        check(committed_records(a) == RECORDS, "a refused restart changes nothing")
        with Daemon("--db", a, "--follow", SAMPLE, "--ema-decay", "0.999", "--num-experts", "40") as d:
            d.wait_ready()
            check(d.proc.poll() is None, "a learned expert count does not refuse: %s" % d.output())
            d.stop()
        refused(a, ["--ema-decay", "0.999", "--num-experts", "48"], "--num-experts", "48", "40")
        check(cli_json("--db", a, "layers")["layers"][0]["num_experts"] == 40, "stated count kept")

        # --reset: start over with the new facts; the figures equal a fresh run's.
        fresh = ingest(os.path.join(tmp, "fresh.db"), [SAMPLE], RECORDS)
        with Daemon("--db", a, "--follow", SAMPLE, "--reset", "--flush-ms", "50") as d:
            wait_for(lambda: committed_records(a) == RECORDS, "%d records after --reset" % RECORDS)
            d.stop()
            check("--reset: discarded" in d.output(), "--reset says so in the log: %s" % d.output())
        check(figures(a) == figures(fresh), "after --reset the figures equal a fresh run")
        check(len(cli_json("--db", a, "sources")["sources"]) == 1, "old offsets discarded")

        # merge: different facts are refused naming the fact, both values and both files.
        b = ingest(os.path.join(tmp, "b.db"), [SAMPLE], RECORDS, "--bucket-s", "300")
        out = os.path.join(tmp, "out.db")
        p = merge(fresh, b, "--out", out)
        want = "cannot merge %s: bucket_seconds 300 in %s differs from 60 in %s" % (b, b, fresh)
        check(p.returncode == 2 and want in p.stderr and p.stderr.count("\n") == 1,
              "different bucket widths refused: %r" % p.stderr)
        c = ingest(os.path.join(tmp, "c.db"), [SAMPLE], RECORDS, "--ema-decay", "0.9")
        p = merge(fresh, c, "--out", out)
        check(p.returncode == 2 and "ema_decay 0.9 in %s differs from 0.99999 in %s" % (c, fresh) in p.stderr,
              "different decays refused: %r" % p.stderr)

        # ... and so is a database counted twice: the same file, a copy, or one merged in.
        p = merge(fresh, fresh, "--out", out)
        check(p.returncode == 2 and "given twice" in p.stderr, "a.db a.db refused: %r" % p.stderr)
        copy = os.path.join(tmp, "copy.db")
        shutil.copy(fresh, copy)
        p = merge(fresh, copy, "--out", out)
        check(p.returncode == 2 and "same database as %s" % fresh in p.stderr, "a copy refused: %r" % p.stderr)
        check(not os.path.exists(out), "nothing written for a refused merge")
        p = merge(fresh, a, "--out", out)
        check(p.returncode == 0, "two distinct databases merge: %r" % p.stderr)
        check(cli_json("--db", out, "layers")["layers"][0]["tokens"] == 2 * figures(fresh)[0][0]["tokens"], "merged counts add")
        out2 = os.path.join(tmp, "out2.db")
        p = merge(out, a, "--out", out2)
        check(p.returncode == 2 and "cannot merge %s: %s already contains it" % (a, out) in p.stderr and
              "records twice" in p.stderr, "a merged-in database refused: %r" % p.stderr)
        check(not os.path.exists(out2), "nothing written for a refused merge")
    print("ok: different model facts are refused on restart and merge; --reset starts over; no database counted twice")


if __name__ == "__main__":
    main()
