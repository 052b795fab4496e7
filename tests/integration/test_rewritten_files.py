#!/usr/bin/env python3
"""A followed file rewritten in place (truncated and refilled past the old offset, as a fast
llama-server restart does) where the new content happens to have '\n' at the old offset - 1,
caught while running and across a restart; and a file rotated while moescoped was stopped
(mv f.log f.log.1, new f.log), whose unread tail is finished from f.log.1 before the new
file is read. Every time the database equals `moescope analyze` over the lines written."""
import contextlib
import os
import random
import tempfile

from harness import Daemon, check, cli_json, committed_records, csv_lines, hits_by_layer, wait_for


def lines(rng, n):
    # Every line has the same length, so a rewrite has '\n' wherever the old content had one.
    return csv_lines(rng, n, layers=4, low=(0, 5), high=(5, 10))


def overwrite_in_place(path, data):
    # Never shorter than before at any moment: only the content changes behind the offset.
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def expect_equal(db, files, tmp, what):
    whole = os.path.join(tmp, "whole.csv")
    with open(whole, "wb") as out:
        for f in files:
            with open(f, "rb") as i:
                out.write(i.read())
    want = cli_json("analyze", whole)
    got = cli_json("--db", db, "layers")
    check(hits_by_layer(got) == hits_by_layer(want), "%s: hits differ from analyze" % what)


def follow(db, log):
    return Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20")


def rewritten(tmp, rng, while_stopped):
    """300 lines, then 700 others written over them in place (never shorter on disk)."""
    name = "stopped" if while_stopped else "live"
    db, log = os.path.join(tmp, name + ".db"), os.path.join(tmp, name + ".log")
    a, b = lines(rng, 300), lines(rng, 700)
    with open(log, "wb") as f:
        f.write(a)
    with contextlib.ExitStack() as running:
        d = running.enter_context(follow(db, log))
        wait_for(lambda: committed_records(db) == 300, "the first content")
        if while_stopped:
            d.stop()
        overwrite_in_place(log, b)
        if while_stopped:
            d = running.enter_context(follow(db, log))
        wait_for(lambda: committed_records(db) == 1000, "%s: the rewritten content read from its start" % name,
                 attempts=100)
        d.stop()
    check(cli_json("--db", db, "sources")["sources"][0]["restarts"] == 1, "%s: the rewrite is a restart" % name)
    if while_stopped:
        check("rewritten while moescoped was stopped" in d.output(), "the log says why:\n" + d.output())


def rotated_while_stopped(tmp, rng, new_file_at_start):
    """Written, stopped, written more, renamed to .1; the new file exists at start or later."""
    name = "rot-new" if new_file_at_start else "rot-none"
    db, log = os.path.join(tmp, name + ".db"), os.path.join(tmp, name + ".log")
    with open(log, "wb") as f:
        f.write(b"layer_id,expert_ids\n" + lines(rng, 200))
    with follow(db, log) as d:
        wait_for(lambda: committed_records(db) == 200, "the first lines")
        d.stop()
    with open(log, "ab") as f:
        f.write(lines(rng, 150))
    os.rename(log, log + ".1")

    def new_file():
        with open(log, "wb") as f:
            f.write(b"layer_id,expert_ids\n" + lines(rng, 100))
    if new_file_at_start:
        new_file()
    with follow(db, log) as d:
        if not new_file_at_start:
            wait_for(lambda: committed_records(db) == 350, "the old file's tail", attempts=200)
            new_file()
        wait_for(lambda: committed_records(db) == 450, "%s: the old file's tail, then the new file" % name,
                 attempts=300)
        d.stop()
    check("finishing %s.1 first" % log in d.output(), "the log says so:\n" + d.output())
    expect_equal(db, [log + ".1", log], tmp, name)


def main():
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        rewritten(tmp, rng, while_stopped=False)
        rewritten(tmp, rng, while_stopped=True)
        rotated_while_stopped(tmp, rng, new_file_at_start=True)
        rotated_while_stopped(tmp, rng, new_file_at_start=False)
    print("ok: rewrites with '\\n' at the old offset - 1 caught live and across a restart; "
          "a rotation while stopped finishes the old file first")


if __name__ == "__main__":
    main()
