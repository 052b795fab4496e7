#!/usr/bin/env python3
"""Random faults for about a minute: a writer appends real llama-server lines to a followed
file while the test rotates it (mv f f.1, sometimes one more write to f.1; new f), truncates and rewrites it (sometimes with a
'\\n' at the old offset - 1, the case a one-byte check misses; sometimes while the daemon is
down), kills the daemon with SIGKILL, and sends SIGTERM while another process holds the
database's write lock, in a seeded random order. Each fault is followed by a restart. At the
end the database must equal `moescope analyze` over every byte that counts: each rotated file,
each rewritten file's content before the rewrite, and the final file (README "Guarantees").

The expected set is exact by construction: a file is only rewritten, and f.1 only replaced,
after the daemon has committed all of it (`sources --json` offset and file_id). The seed is
printed on failure; MOESCOPE_FAULT_SEED=N replays one run, MOESCOPE_FAULT_SECONDS=S sets the
length."""
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time

from harness import SOURCE, Daemon, check, cli_json, fail, hits_by_layer, wait_for

HEADER = b"layer_id,expert_ids\n"
SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")


def sample_lines():
    with open(SAMPLE, "rb") as f:
        lines = [l for l in f.read().splitlines(keepends=True) if l.endswith(b"\n")]
    return [l for l in lines if l != HEADER]  # records and llama-server's own log lines


class Writer:
    """Appends chunks of real lines, cycling through the sample from a random start."""

    def __init__(self, rng):
        self.rng, self.lines = rng, sample_lines()
        self.pos = rng.randrange(len(self.lines))

    def chunk(self, max_lines=40):
        out = []
        for _ in range(self.rng.randint(1, max_lines)):
            out.append(self.lines[self.pos])
            self.pos = (self.pos + 1) % len(self.lines)
        return b"".join(out)


def file_id(path):
    st = os.stat(path)
    return "%d:%d" % (st.st_dev, st.st_ino)


def layer_tokens(doc):
    return {l["layer"]: l["tokens"] for l in doc["layers"] if l["tag"] == "all"}


def run(seed, seconds, tmp):
    rng = random.Random(seed)
    writer = Writer(rng)
    log, db = os.path.join(tmp, "moe.log"), os.path.join(tmp, "moe.db")
    daemon_log = open(os.path.join(tmp, "daemon.log"), "w+")
    done = []  # contents that count and will not change any more
    cur = HEADER + writer.chunk()  # what the followed file holds now
    with open(log, "wb") as f:
        f.write(cur)
    rotated_unsynced = False  # f.1 may still have an unread tail: do not replace it yet
    counts = {}
    daemon = None

    def start():
        nonlocal daemon
        daemon = Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20", log=daemon_log)
        daemon.wait_ready()
        check(daemon.proc.poll() is None, "moescoped did not start; log:\n" + daemon.output())

    def source():
        return cli_json("--db", db, "sources")["sources"][0]

    def sync():
        """Until the daemon has committed all of the followed file (and so any f.1 before it)."""
        nonlocal rotated_unsynced
        if daemon is None:
            start()
        want = (file_id(log), len(cur))
        wait_for(lambda: (lambda s: (s["file_id"], s["offset"]) == want)(source()),
                 "all of %s committed (file_id, offset %r)" % (log, want), attempts=600)
        rotated_unsynced = False

    def append():
        nonlocal cur
        data = writer.chunk()
        with open(log, "ab") as f:
            f.write(data)
        cur += data

    def rotate():
        nonlocal cur, rotated_unsynced
        if rotated_unsynced:
            sync()
        os.rename(log, log + ".1")  # the daemon may be down: it finds f.1 by inode at start
        if rng.random() < 0.5:  # the writer has not reopened yet (well within the 1 s quiet time)
            data = writer.chunk()
            with open(log + ".1", "ab") as f:
                f.write(data)
            cur += data
        done.append(cur)
        cur = HEADER + writer.chunk()
        with open(log, "wb") as f:
            f.write(cur)
        rotated_unsynced = True

    def rewrite():
        nonlocal cur
        sync()
        while_down = rng.random() < 0.3
        if while_down:
            kill9()
        old = len(cur)
        new = HEADER
        newline_at_old_end = rng.random() < 0.5 and old > 1000
        if newline_at_old_end:  # a '\n' exactly at old - 1, then more lines
            longest = max(map(len, writer.lines))
            while len(new) + longest + 20 < old:
                new += writer.chunk(1)
            pad = old - len(new) - len(b"srv  pad \n")
            new += b"srv  pad " + b"x" * pad + b"\n"
            assert len(new) == old and new[old - 1:old] == b"\n"
        new += writer.chunk()
        done.append(cur)
        cur = new
        with open(log, "wb") as f:
            f.write(new)
        counts["rewrite_newline" if newline_at_old_end else "rewrite"] += 1
        if while_down:
            start()

    def kill9():
        nonlocal daemon
        if daemon is None:
            start()
        time.sleep(rng.uniform(0, 0.1))  # SIGKILL at any point of its start, read or commit
        daemon.kill()
        daemon = None

    def crash():
        kill9()
        for _ in range(rng.randint(0, 3)):  # written while the daemon is down
            append()
        if rng.random() < 0.7:
            start()

    def sigterm_locked():
        nonlocal daemon
        if daemon is None:
            start()
        other = sqlite3.connect(db, timeout=10, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        append()
        time.sleep(rng.uniform(0, 0.2))
        daemon.proc.send_signal(signal.SIGTERM)
        time.sleep(rng.uniform(0.2, 1.0))
        # Still waiting, unless it had nothing to commit (the appended lines not read yet:
        # their offset is not committed either, so the next run reads them).
        counts["sigterm_waited"] += daemon.proc.poll() is None
        other.execute("ROLLBACK")
        other.close()
        rc = daemon.proc.wait(timeout=30)
        check(rc == 0, "exit %d after SIGTERM under a released lock; log:\n%s" % (rc, daemon.output()))
        daemon = None
        start()

    faults = {"rotate": rotate, "rewrite": rewrite, "rewrite_newline": None, "kill9": crash,
              "sigterm_locked": sigterm_locked}
    counts["sigterm_waited"] = 0
    for k in faults:
        counts[k] = 0
    start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        append()
        time.sleep(rng.uniform(0, 0.05))
        if rng.random() < 0.12:
            name = rng.choice(["rotate", "rewrite", "kill9", "sigterm_locked"])
            if name != "rewrite":
                counts[name] += 1
            faults[name]()
    sync()
    daemon.stop()
    done.append(cur)

    files = []
    for i, content in enumerate(done):
        files.append(os.path.join(tmp, "expected-%04d.log" % i))
        with open(files[-1], "wb") as f:
            f.write(content)
    want = cli_json("analyze", *files)
    got = cli_json("--db", db, "layers")
    check(layer_tokens(got) == layer_tokens(want),
          "tokens per layer: database %r, analyze %r" % (layer_tokens(got), layer_tokens(want)))
    check(hits_by_layer(got) == hits_by_layer(want), "hits per layer equal analyze of everything written")
    check(want["global"]["tokens"] > 1000, "the run wrote real data (%d records)" % want["global"]["tokens"])
    return counts, want["global"]["tokens"], len(done)


def main():
    seed = int(os.environ.get("MOESCOPE_FAULT_SEED", random.SystemRandom().randrange(1 << 30)))
    seconds = float(os.environ.get("MOESCOPE_FAULT_SECONDS", "50"))  # plus ~10 s to settle
    t0 = time.monotonic()
    print("seed %d (replay: MOESCOPE_FAULT_SEED=%d)" % (seed, seed), flush=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            counts, records, nfiles = run(seed, seconds, tmp)
    except SystemExit:
        print("FAIL with seed %d (replay: MOESCOPE_FAULT_SEED=%d)" % (seed, seed), file=sys.stderr)
        raise
    except Exception as e:
        fail("seed %d: %r" % (seed, e))
    print("ok: %d records in %d files equal analyze after %s (%.0f s)" % (
        records, nfiles, ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items())), time.monotonic() - t0))


if __name__ == "__main__":
    main()
