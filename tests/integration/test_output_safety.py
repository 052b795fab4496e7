#!/usr/bin/env python3
"""Output stays safe whatever the input holds (issue 11, items 7 and 8):
- every --json document is valid UTF-8 JSON, even when reject samples hold binary bytes or a
  multi-byte character cut at the sample length, and it survives a database round trip;
- tags with NUL, ESC, CR/LF reach neither the terminal raw nor truncate the output: every row
  stays, control characters are shown as \\xNN; C1 controls (U+009B, CSI) and bidi overrides
  (U+202E) as \\uNNNN (issue 29 item 8);
- CSV cells that would be spreadsheet formulas start with a quote; plain numbers do not."""
import csv
import io
import json
import os
import subprocess
import tempfile

from harness import MOESCOPE, check, ingest

SAMPLE_BYTES = 160  # SourceStats::kSampleBytes
# Never raw in text or CSV: NUL, ESC, CR, U+009B (CSI), U+202E (right-to-left override).
RAW = (b"\x00", b"\x1b", b"\r", "\u009b".encode(), "\u202e".encode())


def run(*args):
    p = subprocess.run([MOESCOPE, *args], capture_output=True, timeout=120)
    check(p.returncode == 0, "moescope %s exited %d: %r" % (args, p.returncode, p.stderr))
    return p.stdout


def strict_json(raw, what):
    text = raw.decode("utf-8")  # raises on invalid UTF-8
    return json.loads(text)


def reject_samples(doc):
    return [s for src in doc["sources"] for r in src["rejects"].values() for s in r["samples"]]


def check_samples(doc, what):
    samples = reject_samples(doc)
    check(any("caf\u00e9" in s for s in samples), "%s: intact characters kept: %r" % (what, samples))
    check(any("\\xff\\xfe" in s for s in samples), "%s: binary bytes escaped: %r" % (what, samples))
    cut = [s for s in samples if s.endswith("...")]
    check(cut and cut[0].endswith("a..."), "%s: cut before the split character: %r" % (what, cut))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "bad.log")
        # A line whose 160th byte is the middle of "é" (2 bytes), lines with bytes that are
        # not UTF-8, and a good line so the file is recognised.
        cut = b'{"layer": 0, "experts": [1, 2], "x": "' + b"a" * (SAMPLE_BYTES - 39) + "é".encode() * 20 + b'\n'
        check(len(cut) > SAMPLE_BYTES and cut[SAMPLE_BYTES - 1] == 0xC3, "the cut falls inside a character")
        with open(log, "wb") as f:
            f.write(b'{"layer": 0, "experts": [1, 2]}\n')
            f.write(b'{"layer": 0, "experts": [1, \xff\xfe 2]}\n')
            f.write(b'{"layer": 0, "experts": [1, 2], "tag": "\xc3\x28\xed\xa0\x80"}\n')
            f.write(b'{"layer": 0, "experts": [3, 3], "note": "caf\xc3\xa9"}\n')
            f.write(cut.replace(b"[1, 2]", b"[1, 1]"))
        for args in (("sources", log), ("analyze", log)):
            doc = strict_json(run(*args, "--json"), " ".join(args))
            if args[0] == "sources":
                check_samples(doc, "sources FILE --json")
        # A tag (FILE=TAG) whose bytes are not UTF-8: U+FFFD in JSON, the document still valid.
        doc = strict_json(run("tags", os.fsencode(log) + b"=t\xff\xc3", "--json"), "tags --json")
        check(any(t["tag"] == "t\ufffd\ufffd" for t in doc["tags"]), "U+FFFD for bad bytes: %r" % doc)
        db = ingest(os.path.join(tmp, "s.db"), [log], 1)
        doc = strict_json(run("--db", db, "sources", "--json"), "sources --json from the database")
        check_samples(doc, "sources --json from the database")

        # Tags with control characters and a formula.
        tags = ["a\u0000b", "esc\u001b[31mred", "cr\r\nlf", "=cmd()", "@x", "+1+1", "csi\u009b31m",
                "rlo\u202ecod.exe", "plain"]
        tagged = os.path.join(tmp, "tags.log")
        with open(tagged, "w") as f:
            for i, t in enumerate(tags):
                f.write(json.dumps({"layer": 0, "experts": [i, i + 1], "tag": t}) + "\n")
        for cmd in ("tags", "layers"):
            raw = run(cmd, tagged)
            for c in RAW:
                check(c not in raw, "%s: no raw %r in the text output:\n%r" % (cmd, c, raw))
        text = run("tags", tagged).decode()
        for shown in ("a\\x00b", "esc\\x1b[31mred", "cr\\x0d\\x0alf", "=cmd()", "csi\\u009b31m",
                      "rlo\\u202ecod.exe", "plain"):
            check(shown in text, "tags: %r shown, escaped:\n%s" % (shown, text))
        check(text.index("plain") > text.index("a\\x00b"), "rows after the NUL tag are kept")

        # An unknown tag's error lists the known ones, escaped and every one of them (a NUL
        # must not cut the message short, an ESC must not reach the terminal).
        p = subprocess.run([MOESCOPE, "layers", "--tag", "nope", tagged], capture_output=True, timeout=60)
        check(p.returncode == 3, "unknown tag: exit %d" % p.returncode)
        for c in RAW:
            check(c not in p.stderr, "no raw %r in the error: %r" % (c, p.stderr))
        for shown in (b"a\\x00b", b"esc\\x1b[31mred", b"cr\\x0d\\x0alf", b"plain"):
            check(shown in p.stderr, "error lists %r: %r" % (shown, p.stderr))

        raw = run("tags", tagged, "--csv")
        for c in RAW:
            check(c not in raw, "no raw %r in CSV" % c)
        rows = list(csv.reader(io.StringIO(raw.decode())))
        first = [r[0] for r in rows[1:]]
        check(len(first) == 1 + len(tags), "one CSV row per tag (and all): %r" % first)
        for cell in first:
            check(not cell or cell[0] not in "=+-@", "formula cell neutralised: %r" % cell)
        check("'=cmd()" in first and "'@x" in first and "'+1+1" in first, "formulas quoted: %r" % first)
        check("a\\x00b" in first, "NUL escaped in CSV: %r" % first)
        check("csi\\u009b31m" in first and "rlo\\u202ecod.exe" in first, "C1 and bidi escaped in CSV: %r" % first)

        # Plain negative numbers stay numbers (corr values can be negative).
        numbers = [c for r in rows[1:] for c in r[1:]]
        check(all(not c.startswith("'") for c in numbers), "numbers are not quoted: %r" % numbers)
    print("ok: JSON valid UTF-8 with binary samples; control characters escaped; formulas neutralised")


if __name__ == "__main__":
    main()
