#!/usr/bin/env python3
"""Every generation of a followed file is read once, in order, whatever rotation did while
moescoped was stopped or between two polls: two renames while stopped (f.log.1, f.log.2, a
new f.log), logrotate's numbering with the older generation compressed to .gz, dateext names
with zstd, two renames within one poll interval while running, copytruncate while running and
while stopped, a rewrite and a copytruncate between two polls. Each time the database equals
`moescope analyze` over every complete line written, and the log says what was found; a
generation deleted with unread bytes is logged with the number of bytes lost."""
import contextlib
import gzip
import os
import random
import shutil
import subprocess
import tempfile
import time

from harness import CSV_HEADER, Daemon, check, cli_json, committed_records, csv_lines, hits_by_layer, wait_for, write_file

def follow(db, log, poll_ms=20):
    return Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", str(poll_ms))


def expect(db, tmp, history, what):
    """The database equals analyze over `history` (the complete lines of every generation)."""
    whole = os.path.join(tmp, what + ".expected")
    write_file(whole, history)
    want = cli_json("analyze", whole)
    got = cli_json("--db", db, "layers")
    check(got["global"]["tokens"] == want["global"]["tokens"],
          "%s: %d records counted, %d written" % (what, got["global"]["tokens"], want["global"]["tokens"]))
    check(hits_by_layer(got) == hits_by_layer(want), "%s: hits differ from analyze" % what)


def started(tmp, name, rng, n):
    """A followed file with `n` records, all committed, and moescoped stopped."""
    db, log = os.path.join(tmp, name + ".db"), os.path.join(tmp, name, "f.log")
    os.makedirs(os.path.dirname(log))
    first = CSV_HEADER + csv_lines(rng, n)
    write_file(log, first)
    with follow(db, log) as d:
        wait_for(lambda: committed_records(db) == n, "%s: the first %d records" % (name, n))
        d.stop()
    return db, log, first


def restarted(db, log, n, what):
    """moescoped started again until `n` records are committed, then stopped."""
    with follow(db, log) as d:
        wait_for(lambda: committed_records(db) == n, what, attempts=300)
        d.stop()
    return d


def two_rotations_while_stopped(tmp, rng):
    """The issue's case: 1,188 records read, then f.log -> f.log.1, 792 records in a new f.log,
    f.log -> f.log.2, a new f.log; before, only 1,188 of the 1,980 were counted."""
    db, log, a = started(tmp, "twice", rng, 1188)
    os.rename(log, log + ".1")
    b = CSV_HEADER + csv_lines(rng, 792)
    write_file(log, b)
    os.rename(log, log + ".2")
    write_file(log, b"")
    with follow(db, log) as d:
        wait_for(lambda: committed_records(db) == 1980, "two rotations while stopped: 1,980 records", attempts=300)
        c = csv_lines(rng, 20)
        write_file(log, c, "ab")
        wait_for(lambda: committed_records(db) == 2000, "then the new file", attempts=300)
        d.stop()
    check("finishing %s.1 first" % log in d.output(), "the log names the committed file:\n" + d.output())
    check("reading %s.2" % log in d.output(), "the log names the generation found:\n" + d.output())
    expect(db, tmp, a + b + c, "twice")


def logrotate_with_compression(tmp, rng):
    """logrotate's numbering with delaycompress, twice while stopped: the committed file (with
    an unread tail) becomes f.log.1, then f.log.2.gz; the next one f.log.1; a new f.log."""
    db, log, a = started(tmp, "gz", rng, 300)
    tail = csv_lines(rng, 50)
    write_file(log, tail, "ab")  # unread: written while stopped
    os.rename(log, log + ".1")
    b = CSV_HEADER + csv_lines(rng, 400)
    write_file(log, b)
    with open(log + ".1", "rb") as f, gzip.open(log + ".2.gz", "wb") as out:
        out.write(f.read())
    os.unlink(log + ".1")
    os.rename(log, log + ".1")
    c = CSV_HEADER + csv_lines(rng, 100)
    write_file(log, c)
    d = restarted(db, log, 850, "the .gz tail, f.log.1, then f.log")
    check("finishing %s.2.gz first" % log in d.output(), "the compressed copy is found:\n" + d.output())
    expect(db, tmp, a + tail + b + c, "gz")


def dateext_with_zstd(tmp, rng):
    """dateext names, the older generation compressed with zstd after the committed one."""
    if not shutil.which("zstd"):
        print("  SKIP dateext with zstd: no zstd command")
        return
    db, log, a = started(tmp, "zst", rng, 200)
    os.rename(log, log + "-20260101")
    b = CSV_HEADER + csv_lines(rng, 300)
    write_file(log, b)
    time.sleep(0.02)
    os.rename(log, log + "-20260102")
    subprocess.run(["zstd", "-q", "--rm", log + "-20260102"], check=True)
    c = CSV_HEADER + csv_lines(rng, 100)
    write_file(log, c)
    d = restarted(db, log, 600, "f.log-20260101, f.log-20260102.zst, f.log")
    check("reading %s-20260102.zst" % log in d.output(), "the zstd generation is read:\n" + d.output())
    expect(db, tmp, a + b + c, "zst")


@contextlib.contextmanager
def polled_slowly(tmp, name, rng, n):
    """A followed file with `n` records committed, polled once a second: right after a poll."""
    db, log = os.path.join(tmp, name + ".db"), os.path.join(tmp, name, "f.log")
    os.makedirs(os.path.dirname(log))
    a = CSV_HEADER + csv_lines(rng, n)
    write_file(log, a)
    with follow(db, log, poll_ms=1000) as d:
        wait_for(lambda: committed_records(db) == n, "%s: the first records" % name, attempts=300)
        time.sleep(0.3)
        yield db, log, a, d
        d.stop()


def two_renames_within_one_poll(tmp, rng):
    """While running: f.log -> f.log.1, a new f.log written, f.log -> f.log.2, another new
    f.log, all between two polls."""
    with polled_slowly(tmp, "live", rng, 200) as (db, log, a, d):
        os.rename(log, log + ".1")
        b = CSV_HEADER + csv_lines(rng, 300)
        write_file(log, b)
        os.rename(log, log + ".2")
        c = CSV_HEADER + csv_lines(rng, 100)
        write_file(log, c)
        wait_for(lambda: committed_records(db) == 600, "the middle file is not lost", attempts=400)
    check("reading %s.2" % log in d.output(), "the log names the middle file:\n" + d.output())
    expect(db, tmp, a + b + c, "live")


def copytruncate_live(tmp, rng):
    """cp f.log f.log.1 and truncate f.log (logrotate copytruncate) before the daemon read
    the last lines: they are read from the copy, then f.log from its start."""
    with polled_slowly(tmp, "ct", rng, 200) as (db, log, a, d):
        tail = csv_lines(rng, 100)
        write_file(log, tail, "ab")
        shutil.copyfile(log, log + ".1")
        os.truncate(log, 0)
        c = csv_lines(rng, 50)
        write_file(log, c, "ab")
        wait_for(lambda: committed_records(db) == 350, "the copy's tail, then the truncated file", attempts=400)
    check("reading the rest of the old content from its copy %s.1" % log in d.output(),
          "the log says so:\n" + d.output())
    expect(db, tmp, a + tail + c, "ct")


def rewritten_then_copied_within_one_poll(tmp, rng):
    """Between two polls the file is rewritten (a llama-server restart) and then copied and
    truncated: the copy holds content the daemon never saw; it is read before the new one."""
    with polled_slowly(tmp, "rc", rng, 200) as (db, log, a, d):
        b = CSV_HEADER + csv_lines(rng, 120)
        write_file(log, b)
        shutil.copyfile(log, log + ".1")
        os.truncate(log, 0)
        c = csv_lines(rng, 40)
        write_file(log, c, "ab")
        wait_for(lambda: committed_records(db) == 360, "the unseen content from the copy", attempts=400)
    check("reading %s.1" % log in d.output(), "the log names the copy:\n" + d.output())
    expect(db, tmp, a + b + c, "rc")


def copytruncate_while_stopped(tmp, rng):
    db, log, a = started(tmp, "cts", rng, 200)
    tail = csv_lines(rng, 100)
    write_file(log, tail, "ab")
    shutil.copyfile(log, log + ".1")
    os.truncate(log, 0)
    c = CSV_HEADER + csv_lines(rng, 30)
    write_file(log, c, "ab")
    d = restarted(db, log, 330, "the copy's tail, then the file")
    check("finishing %s.1 first" % log in d.output(), "the copy is found:\n" + d.output())
    expect(db, tmp, a + tail + c, "cts")


def generation_gone(tmp, rng):
    """The committed file deleted with an unread last line: its bytes are reported lost."""
    db, log, a = started(tmp, "gone", rng, 100)
    write_file(log, b"3,4 5", "ab")  # never terminated: not committed, but seen
    with follow(db, log) as d:
        wait_for(lambda: cli_json("--db", db, "sources")["sources"][0]["file_size"] == len(a) + 5,
                 "the unterminated line seen")
        d.stop()
    os.rename(log, log + ".1")
    c = CSV_HEADER + csv_lines(rng, 40)
    write_file(log, c)  # created while the old inode exists: not reused
    os.unlink(log + ".1")
    d = restarted(db, log, 140, "the new file")
    check("5 bytes were lost unread" in d.output(), "the loss is logged:\n" + d.output())
    expect(db, tmp, a + c, "gone")


def main():
    rng = random.Random(29)
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in (two_rotations_while_stopped, logrotate_with_compression, dateext_with_zstd,
                         two_renames_within_one_poll, copytruncate_live, rewritten_then_copied_within_one_poll,
                         copytruncate_while_stopped,
                         generation_gone):
            scenario(tmp, rng)
            print("  ok: " + scenario.__name__, flush=True)
    print("ok: every generation read once, in order, after rotations while stopped and within one poll")


if __name__ == "__main__":
    main()
