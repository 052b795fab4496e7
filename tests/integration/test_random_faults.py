#!/usr/bin/env python3
"""Random faults for about a minute, while a writer appends real llama-server lines to a
followed file and two producers send the same kind of lines through the bundled client as
acknowledged TCP streams (samples/clients/stream_records.py --file -). In a seeded random
order the test:

- rotates the followed file: renamed to a new f.log.N (sometimes written once more before
  the writer "reopens"), twice in a row between two polls, twice while moescoped is down,
  by copytruncate, and compresses the newest rotated generation (delaycompress);
- truncates and rewrites it (sometimes with a '\\n' at the old offset - 1, the case a one-byte
  check misses; sometimes while moescoped is down);
- kills moescoped with SIGKILL (lines are written before it restarts), sends SIGTERM while
  another process holds the database's write lock, sends SIGHUP;
- fills the small tmpfs the database lives on for a while (sometimes killing moescoped while
  it is full; skipped where no tmpfs can be mounted: needs root).

At the end the database must equal `moescope analyze` of every byte that counts: each
generation of the followed file, each rewritten file's content before the rewrite, the
final file, and every line the producers sent (docs/GUARANTEES.md). A file is only
rewritten after the daemon has committed all of it (`sources --json` offset and file_id), so
the expected set is exact by construction; rotated generations are never overwritten. The
seed is printed on failure; MOESCOPE_FAULT_SEED=N replays one run (the timing differs),
MOESCOPE_FAULT_SECONDS=S sets the length (BENCHMARKS.md "Fault soak" has a long run),
MOESCOPE_FAULT_KEEP=DIR keeps the files, the database and the daemon's log (debug) there,
MOESCOPE_FAULT_ONLY=rotate,kill9 injects only those faults."""
import contextlib
import gzip
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from harness import SOURCE, Daemon, check, cli_json, fail, free_port, hits_by_layer, wait_for

HEADER = b"layer_id,expert_ids\n"
SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
CLIENT = os.path.join(SOURCE, "samples", "clients", "stream_records.py")


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


class Producer(threading.Thread):
    """An engine streaming lines through the bundled client (acknowledged, stream `name`):
    keeps every line it sent; the client outlives daemon restarts and full disks."""

    def __init__(self, seed, port, name):
        super().__init__(daemon=True)
        self.rng, self.name = random.Random(seed), name
        self.writer = Writer(self.rng)
        self.sent = [HEADER]
        self.stop = threading.Event()
        self.client = subprocess.Popen(
            [sys.executable, CLIENT, "tcp://127.0.0.1:%d" % port, "--file", "-", "--stream", name,
             "--give-up-s", "120", "--max-unacked-mb", "1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def run(self):
        self.client.stdin.write(HEADER)
        while not self.stop.is_set():
            data = self.writer.chunk(20)
            self.client.stdin.write(data)  # blocks while the client waits for acknowledgements
            self.client.stdin.flush()
            self.sent.append(data)
            time.sleep(self.rng.uniform(0, 0.1))

    def finish(self):
        self.stop.set()
        self.join(timeout=150)
        out, err = self.client.communicate(timeout=150)  # closes its input: the end
        check(self.client.returncode == 0 and b"every line acknowledged" in out,
              "producer %s: exit %d, %r %r" % (self.name, self.client.returncode, out, err[-2000:]))
        return b"".join(self.sent), err.count(b"reconnecting")


def file_id(path):
    st = os.stat(path)
    return "%d:%d" % (st.st_dev, st.st_ino)


def layer_tokens(doc):
    return {l["layer"]: l["tokens"] for l in doc["layers"] if l["tag"] == "all"}


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                          capture_output=True).returncode == 0


def run(seed, seconds, tmp, small):
    rng = random.Random(seed)
    writer = Writer(rng)
    log = os.path.join(tmp, "moe.log")
    db = os.path.join(small or tmp, "moe.db")
    port = free_port()
    daemon_log = open(os.path.join(tmp, "daemon.log"), "w+")
    births = [0]

    def fresh(lines=True):
        """A new file's first lines: the sample cycles, so a line of its own tells it apart
        (the daemon takes a file beginning as a read one did, with its inode, for it)."""
        births[0] += 1
        return HEADER + b"srv  file %d of the soak\n" % births[0] + (writer.chunk() if lines else b"")

    done = []  # contents that count and will not change any more
    cur = fresh()  # what the followed file holds now
    with open(log, "wb") as f:
        f.write(cur)
    generation = [0]  # the last f.log.N
    newest_rotated = [None]  # the last rotated generation, not compressed yet
    counts = {}
    daemon = None
    debug = ["--log-level", "debug"] if os.environ.get("MOESCOPE_FAULT_KEEP") else []

    def note(what):
        """The test's actions, between the daemon's lines of the shared log."""
        daemon_log.write("# %s test: %s\n" % (time.strftime("%H:%M:%S"), what))
        daemon_log.flush()

    def start():
        nonlocal daemon
        daemon = Daemon("--db", db, "--follow", log, "--listen", "tcp://127.0.0.1:%d" % port,
                        "--flush-ms", "50", "--poll-ms", "20", *debug, log=daemon_log)
        daemon.wait_ready()
        check(daemon.proc.poll() is None, "moescoped did not start; log:\n" + daemon.output())

    def source():
        return [s for s in cli_json("--db", db, "sources")["sources"] if s["kind"] == "file"][0]

    def sync():
        """Until the daemon has committed all of the followed file (and so every generation)."""
        if daemon is None:
            start()
        want = (file_id(log), len(cur))
        wait_for(lambda: (lambda s: (s["file_id"], s["offset"]) == want)(source()),
                 "all of %s committed (file_id, offset %r)" % (log, want), attempts=1200)

    def append():
        nonlocal cur
        data = writer.chunk()
        with open(log, "ab") as f:
            f.write(data)
        cur += data

    def kill9():
        nonlocal daemon
        if daemon is None:
            start()
        time.sleep(rng.uniform(0, 0.1))  # SIGKILL at any point of its start, read or commit
        daemon.kill()
        note("SIGKILL")
        daemon = None

    def rename_away(linger):
        """f.log -> a new f.log.N; a new f.log."""
        nonlocal cur
        generation[0] += 1
        rotated = "%s.%d" % (log, generation[0])
        os.rename(log, rotated)
        note("renamed to " + rotated)
        if linger:  # the writer has not reopened yet (well within the 1 s quiet time)
            data = writer.chunk()
            with open(rotated, "ab") as f:
                f.write(data)
            cur += data
        done.append(cur)
        cur = fresh()
        with open(log, "wb") as f:
            f.write(cur)
        newest_rotated[0] = rotated

    def rotate():
        nonlocal cur
        if rng.random() < 0.2:  # copytruncate: f.log copied to f.log.N, then emptied
            counts["copytruncate"] += 1
            generation[0] += 1
            shutil.copyfile(log, "%s.%d" % (log, generation[0]))
            note("copied to %s.%d, truncated" % (log, generation[0]))
            done.append(cur)
            cur = fresh()
            with open(log, "r+b") as f:
                f.truncate(0)
                f.write(cur)
            return
        rename_away(rng.random() < 0.5)
        if rng.random() < 0.3:  # and again, between two polls
            counts["rotate_twice_live"] += 1
            rename_away(False)

    def rotate_twice_down():
        if rng.random() < 0.5:
            kill9()
        else:
            stop_daemon()
        for _ in range(2):
            rename_away(rng.random() < 0.3)
            for _ in range(rng.randint(0, 2)):
                append()
        start()

    def compress():
        """The newest rotated generation compressed (logrotate's delaycompress), read or not."""
        if newest_rotated[0] is None or not os.path.exists(newest_rotated[0]):
            return
        counts["compress"] += 1
        path = newest_rotated[0]
        with open(path, "rb") as f, gzip.open(path + ".gz", "wb") as out:
            out.write(f.read())
        os.unlink(path)
        note("compressed " + path)
        newest_rotated[0] = None

    def stop_daemon():
        nonlocal daemon
        if daemon is not None:
            daemon.stop()
            daemon = None

    def rewrite():
        nonlocal cur
        sync()
        while_down = rng.random() < 0.3
        if while_down:
            kill9()
        old = len(cur)
        new = fresh(lines=False)
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
        note("rewritten")
        counts["rewrite_newline" if newline_at_old_end else "rewrite"] += 1
        if while_down:
            start()

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

    def disk_full():
        """The database's file system full for a while: commits fail, then succeed again."""
        if daemon is None:
            start()
        filler = os.path.join(small, "filler")
        subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=64k"], capture_output=True)
        for _ in range(rng.randint(1, 4)):
            append()
            time.sleep(rng.uniform(0.1, 0.5))
        killed = rng.random() < 0.4
        if killed:
            counts["kill9_while_full"] += 1
            kill9()
        os.unlink(filler)
        if killed:
            start()

    def sighup():
        if daemon is None:
            start()
        daemon.proc.send_signal(signal.SIGHUP)

    faults = {"rotate": rotate, "rotate_twice_down": rotate_twice_down, "compress": compress,
              "rewrite": rewrite, "kill9": crash, "sigterm_locked": sigterm_locked, "sighup": sighup}
    if small:
        faults["disk_full"] = disk_full
    if os.environ.get("MOESCOPE_FAULT_ONLY"):  # to find which fault breaks a replayed run
        faults = {k: f for k, f in faults.items() if k in os.environ["MOESCOPE_FAULT_ONLY"].split(",")}
    for k in list(faults) + ["rewrite_newline", "sigterm_waited", "copytruncate", "rotate_twice_live",
                             "kill9_while_full"]:
        counts[k] = 0
    start()
    producers = [Producer(seed * 7 + i, port, "soak-%d" % i) for i in range(2)]
    for p in producers:
        p.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        append()
        time.sleep(rng.uniform(0, 0.05))
        if rng.random() < 0.12:
            name = rng.choice(sorted(faults))
            if name not in ("rewrite", "compress"):
                counts[name] += 1
            faults[name]()
    if daemon is None:
        start()
    sent, reconnects = [], 0
    for p in producers:
        data, n = p.finish()
        sent.append(data)
        reconnects += n
    sync()
    daemon.stop()
    done.append(cur)

    files = []
    for i, content in enumerate(done + sent):
        files.append(os.path.join(tmp, "expected-%04d.log" % i))
        with open(files[-1], "wb") as f:
            f.write(content)
    want = cli_json("analyze", *files)
    got = cli_json("--db", db, "layers")
    if layer_tokens(got) != layer_tokens(want):  # which kind of source differs
        by_kind = {}
        for src in cli_json("--db", db, "sources")["sources"]:
            by_kind[src["kind"]] = by_kind.get(src["kind"], 0) + src["records"]
        fail("tokens per layer: database %r, analyze %r; records by source kind %r, written to files %d, "
             "sent %d; log: %s" % (layer_tokens(got), layer_tokens(want), by_kind,
                                   cli_json("analyze", *files[:len(done)])["global"]["tokens"],
                                   cli_json("analyze", *files[len(done):])["global"]["tokens"],
                                   daemon_log.name))
    check(hits_by_layer(got) == hits_by_layer(want), "hits per layer equal analyze of everything written and sent")
    streamed = cli_json("analyze", *files[len(done):])["global"]["tokens"]
    check(want["global"]["tokens"] > 1000 and streamed > 100,
          "the run wrote and sent real data (%d records, %d streamed)" % (want["global"]["tokens"], streamed))
    counts["client_reconnects"] = reconnects
    injected = sum(counts[k] for k in faults) + counts["rewrite_newline"]
    return counts, injected, want["global"]["tokens"], streamed, len(done)


def main():
    seed = int(os.environ.get("MOESCOPE_FAULT_SEED", random.SystemRandom().randrange(1 << 30)))
    seconds = float(os.environ.get("MOESCOPE_FAULT_SECONDS", "50"))  # plus ~10 s to settle
    t0 = time.monotonic()
    print("seed %d (replay: MOESCOPE_FAULT_SEED=%d)" % (seed, seed), flush=True)
    try:
        keep = os.environ.get("MOESCOPE_FAULT_KEEP")  # a directory to keep the files in
        with (tempfile.TemporaryDirectory() if not keep else contextlib.nullcontext(keep)) as tmp:
            os.makedirs(tmp, exist_ok=True)
            small = os.path.join(tmp, "small")
            if not mount_tmpfs(small, "64m"):
                print("SKIP disk full: cannot mount a tmpfs here (needs root)", flush=True)
                small = None
            try:
                counts, faults, records, streamed, nfiles = run(seed, seconds, tmp, small)
            finally:
                if small:
                    if keep:
                        shutil.copytree(small, os.path.join(tmp, "db"), dirs_exist_ok=True)
                    subprocess.run(["umount", "-l", small], capture_output=True)
    except SystemExit:
        print("FAIL with seed %d (replay: MOESCOPE_FAULT_SEED=%d)" % (seed, seed), file=sys.stderr)
        raise
    except Exception as e:
        fail("seed %d: %r" % (seed, e))
    print("ok: %d records (%d of them streamed) in %d files and 2 acknowledged streams equal analyze after "
          "%d faults: %s (%.0f s)" % (records, streamed, nfiles, faults,
                                      ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items())),
                                      time.monotonic() - t0))


if __name__ == "__main__":
    main()
