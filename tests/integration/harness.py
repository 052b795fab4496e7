"""Shared helpers for moescope's integration tests: find the binaries, run the CLI, start
and stop the daemon, and poll for a condition with a bounded number of attempts."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = os.environ.get("MOESCOPE_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
MOESCOPE = os.path.join(BUILD, "moescope")
MOESCOPED = os.environ.get("MOESCOPED", os.path.join(BUILD, "moescoped"))  # e.g. a sanitizer build
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def cli(*args, expect_rc=0):
    p = subprocess.run([MOESCOPE, *args], capture_output=True, text=True, timeout=120)
    if expect_rc is not None and p.returncode != expect_rc:
        raise RuntimeError("moescope %s exited %d (wanted %d): %s" % (" ".join(args), p.returncode, expect_rc, p.stderr))
    return p


def cli_json(*args):
    return json.loads(cli(*args, "--json").stdout)


def wait_for(cond, what, attempts=200, delay=0.05):
    """Polls cond() up to `attempts` times; fails the test with `what` if it never holds."""
    last = None
    for _ in range(attempts):
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # the database may not exist yet
            last = e
        time.sleep(delay)
    fail("timed out waiting for %s (last: %r)" % (what, last))


class Daemon:
    def __init__(self, *args, log=None):
        self.args = [MOESCOPED, *args]
        self.log = log or tempfile.TemporaryFile(mode="w+")
        # A log shared by successive daemons: readiness is this daemon's line, not an
        # earlier one's (else a SIGTERM could arrive before its handler exists: exit -15).
        self.log.seek(0, os.SEEK_END)
        self.start = self.log.tell()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

    def own_output(self):
        self.log.seek(self.start)
        return self.log.read()

    def wait_ready(self):
        """Until the daemon has started its event loop (and so handles SIGTERM)."""
        for _ in range(400):
            if "moescoped: database" in self.own_output() or self.proc.poll() is not None:
                return
            time.sleep(0.025)

    def stop(self, sig=signal.SIGTERM, expect_rc=0):
        self.wait_ready()
        self.proc.send_signal(sig)
        try:
            # Longer than moescoped's own --shutdown-timeout-s (30 s), so a final commit that
            # retries until that deadline ends here with its log, not with a bare timeout.
            rc = self.proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            threads = self.thread_states()
            self.proc.kill()
            fail("moescoped did not exit within 45 s of %s; threads (name state wchan): %s; log:\n%s"
                 % (sig, threads, self.output()))
        if expect_rc is not None and rc != expect_rc:
            fail("moescoped exited %d after %s; log:\n%s" % (rc, sig, self.output()))
        return rc

    def thread_states(self):
        """Each thread's name, state (R running, S sleeping, D disk) and wait channel: whether
        a process that does not exit spins or waits, and where."""
        out = []
        task = "/proc/%d/task" % self.proc.pid
        try:
            for tid in sorted(os.listdir(task)):
                try:
                    stat = open(os.path.join(task, tid, "stat")).read()
                    name = stat[stat.index("(") + 1:stat.rindex(")")]
                    state = stat[stat.rindex(")") + 2]
                    wchan = open(os.path.join(task, tid, "wchan")).read().strip()
                    out.append("%s %s %s" % (name, state, wchan or "-"))
                except OSError:
                    pass
        except OSError:
            return "unknown"
        return ", ".join(out)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def committed_records(db):
    """Routing records committed to a daemon's database, over all its sources."""
    return sum(s["records"] for s in cli_json("--db", db, "sources")["sources"])


def ingest(db, files, n_records, *extra):
    """Runs moescoped on `files` until `n_records` are committed, then stops it (SIGTERM)."""
    follows = [a for f in files for a in ("--follow", f)]
    with Daemon("--db", db, *follows, "--flush-ms", "50", *extra) as d:
        wait_for(lambda: committed_records(db) == n_records, "%d records in %s" % (n_records, db))
        d.stop()
    return db


CSV_HEADER = b"layer_id,expert_ids\n"


_LAST_IDS = {}  # layer -> the ids csv_lines gave it last; "layer" -> the last line's layer


def csv_lines(rng, n, layers=8, low=(0, 8), high=(8, 16)):
    """`n` llama-server lines of `layers` layers and top-2 ids, one in [low), one in [high).
    No two lines in a row have the same layer, and a layer never repeats its last ids: a
    batch's second row waits for the strided-view verdict, and the second record of an
    identical run to see whether the run reaches 256 (docs/FIGURES.md "Data quality"), which a
    count of records committed would miss."""
    out = []
    for _ in range(n):
        layer = _LAST_IDS.get("layer")
        while layer == _LAST_IDS.get("layer"):
            layer = rng.randrange(layers)
        _LAST_IDS["layer"] = layer
        ids = _LAST_IDS.get(layer)
        while ids == _LAST_IDS.get(layer):
            ids = (rng.randrange(*low), rng.randrange(*high))
        _LAST_IDS[layer] = ids
        out.append("%d,%d %d\n" % (layer, ids[0], ids[1]))
    return "".join(out).encode()


def weighted_picks(rng, weights, k):
    """k distinct experts drawn one by one with these weights (a random.Random rng)."""
    picks = []
    while len(picks) < k:
        e = rng.choices(range(len(weights)), weights)[0]
        if e not in picks:
            picks.append(e)
    return picks


def write_file(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def hits_by_layer(doc, tag="all"):
    """{layer: {expert: hits}} from a --json document's "layers" section."""
    out = {}
    for l in doc["layers"]:
        if l["tag"] == tag:
            out[l["layer"]] = {e["expert"]: e["hits"] for e in l["experts"]}
    return out


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    """The daemon's /metrics text on 127.0.0.1:port."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def same(a, b, where, rel=1e-12):
    """Two JSON documents of figures are equal: integers exactly (counts), floats within
    `rel` relative (sums in another order), everything else exactly."""
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or a is None:
        check(a == b, "%s: %r vs %r" % (where, a, b))
    elif isinstance(a, int) and isinstance(b, int):
        check(a == b, "%s: %d vs %d (counts must be bit-identical)" % (where, a, b))
    elif isinstance(a, (int, float)):
        check(isinstance(b, (int, float)), "%s: %r vs %r" % (where, a, b))
        check(abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-300, "%s: %r vs %r" % (where, a, b))
    elif isinstance(a, list):
        check(isinstance(b, list) and len(a) == len(b), "%s: lengths differ" % where)
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (where, i), rel)
    elif isinstance(a, dict):
        check(isinstance(b, dict) and sorted(a) == sorted(b), "%s: keys differ" % where)
        for k in a:
            same(a[k], b[k], "%s.%s" % (where, k), rel)
    else:
        fail("%s: unexpected %r" % (where, a))


def report_data(page):
    """The figures an HTML report embeds (its <script id="data"> JSON)."""
    html = open(page).read()
    head = '<script id="data" type="application/json">'
    start = html.index(head) + len(head)
    return json.loads(html[start:html.index("</script>", start)])
