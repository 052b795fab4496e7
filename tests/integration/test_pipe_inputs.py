#!/usr/bin/env python3
"""An input path that is not a regular file (a pipe from `<(...)`, /dev/stdin, a named FIFO)
is opened once and its format told from that same stream, so nothing is lost: before, the
format sniffing read (and dropped) the first 8 KiB of a pipe, and a FIFO's first writer.
Each scenario must count every record of the bundled llama-server sample, as `analyze` of
the regular file does; a whole-file recorder format through a pipe is one clear error."""
import gzip
import json
import os
import subprocess
import tempfile
import threading

from harness import MOESCOPE, SOURCE, check, cli, cli_json, hits_by_layer

SAMPLE = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
GGUF = os.path.join(SOURCE, "samples", "recorders", "imatrix", "imatrix.gguf")


def shell(cmd, expect_rc=0):
    """Runs `cmd` in bash (process substitution, pipes); MOESCOPE is $M."""
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, M=MOESCOPE, LOG=SAMPLE, GGUF=GGUF))
    check(p.returncode == expect_rc, "%s: exit %d (wanted %d): %s" % (cmd, p.returncode, expect_rc, p.stderr))
    return p


def same_as_file(doc, want, what):
    check(doc["global"]["tokens"] == want["global"]["tokens"],
          "%s: %d records, the file has %d" % (what, doc["global"]["tokens"], want["global"]["tokens"]))
    check(hits_by_layer(doc) == hits_by_layer(want), "%s: hits differ from the regular file" % what)


def process_substitution(want):
    same_as_file(json.loads(shell('"$M" analyze <(cat "$LOG") --json').stdout), want, "analyze <(cat LOG)")


def dev_stdin(want):
    same_as_file(json.loads(shell('cat "$LOG" | "$M" analyze /dev/stdin --json').stdout), want,
                 "cat LOG | analyze /dev/stdin")


def compressed_pipe(want, tmp):
    gz = os.path.join(tmp, "sample.log.gz")
    with open(SAMPLE, "rb") as f, gzip.open(gz, "wb") as out:
        out.write(f.read())
    doc = json.loads(shell('"$M" analyze <(cat "%s") --json' % gz).stdout)
    same_as_file(doc, want, "analyze <(cat LOG.gz)")


def named_fifo(want, tmp):
    """One writer: analyze must read what it wrote and end, not wait for a second writer."""
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)

    def writer():
        with open(SAMPLE, "rb") as f, open(fifo, "wb") as out:
            out.write(f.read())
    t = threading.Thread(target=writer)
    t.start()
    try:
        p = subprocess.run([MOESCOPE, "analyze", fifo, "--json"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        with open(fifo, "wb"):  # release the waiting reader
            pass
        t.join()
        check(False, "analyze FIFO waited for a second writer")
    t.join()
    check(p.returncode == 0, "analyze FIFO: exit %d: %s" % (p.returncode, p.stderr))
    same_as_file(json.loads(p.stdout), want, "analyze FIFO")


def fifo_without_records(tmp):
    """Nothing recognised in a FIFO: said from what was read, not by opening it again (which
    would wait for another writer)."""
    fifo = os.path.join(tmp, "fifo-text")
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as out:
            out.write(b"hello\nnot a record\n")
    t = threading.Thread(target=writer)
    t.start()
    try:
        p = subprocess.run([MOESCOPE, "analyze", fifo], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        with open(fifo, "wb"):
            pass
        t.join()
        check(False, "analyze of a FIFO without records waited for a second writer")
    t.join()
    check(p.returncode == 3 and "2 lines" in p.stderr, "a FIFO without records: %d %r" % (p.returncode, p.stderr))
    # An empty stream says so, as an empty file does ("an empty file").
    p = subprocess.run([MOESCOPE, "analyze", "/dev/stdin"], input="", capture_output=True, text=True, timeout=20)
    check(p.returncode == 3 and "no record recognised in an empty input" in p.stderr,
          "an empty pipe: %d %r" % (p.returncode, p.stderr))


def import_from_pipe(want, tmp):
    db = os.path.join(tmp, "imported.db")
    shell('"$M" import <(cat "$LOG") --db "%s"' % db)
    same_as_file(cli_json("--db", db, "layers"), want, "import <(cat LOG)")


def whole_file_format_through_a_pipe():
    p = shell('"$M" analyze <(cat "$GGUF")', expect_rc=1)
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1 and "read whole" in lines[0] and "regular file" in lines[0],
          "a GGUF recorder file through a pipe: one clear line, got %r" % p.stderr)


def main():
    want = cli_json("analyze", SAMPLE)
    check(want["global"]["tokens"] == 396, "the sample has 396 records (%d)" % want["global"]["tokens"])
    check(os.path.getsize(SAMPLE) > 8192, "the sample is longer than the 8 KiB a sniff used to eat")
    with tempfile.TemporaryDirectory() as tmp:
        process_substitution(want)
        dev_stdin(want)
        compressed_pipe(want, tmp)
        named_fifo(want, tmp)
        fifo_without_records(tmp)
        import_from_pipe(want, tmp)
    whole_file_format_through_a_pipe()
    cli("analyze", SAMPLE)  # the regular file still reads (sniffed by path, mapped)
    print("ok: <(cat LOG), /dev/stdin, a gzip pipe, a named FIFO and import from a pipe count all 396 "
          "records; a GGUF file through a pipe is one clear error")


if __name__ == "__main__":
    main()
