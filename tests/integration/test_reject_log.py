#!/usr/bin/env python3
"""The daemon log tells about data problems: the first reject of each reason per source with
a sample whose control characters are escaped, then one summary line per interval while new
rejects come (none when nothing new); rejects of an earlier run are not announced again."""
import os
import re
import tempfile
import time

from harness import Daemon, check, committed_records, wait_for

BAD = [b"0,1 1\n", b'{"layer": 0, "experts": [1, \x1b[31m2]}\n', b"0,1 1\x07\n", b"0,1 99999\n"]
REASONS = ["duplicate_expert", "invalid_json", "binary", "expert_out_of_range"]


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db, log = os.path.join(tmp, "r.db"), os.path.join(tmp, "r.log")
        append(log, b"0,1 2\n" + b"".join(BAD) * 3)
        args = ("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20", "--reject-summary-s", "1")
        with Daemon(*args) as d:
            wait_for(lambda: committed_records(db) == 1, "the good line")
            time.sleep(0.3)
            out = d.output()
            for reason in REASONS:
                n = len(re.findall(r"rejected a line \(%s\)" % reason, out))
                check(n == 1, "%s announced once, got %d:\n%s" % (reason, n, out))
            check("\x1b" not in out and "\x07" not in out, "no raw control characters in the log")
            check("\\x1b[31m" in out and "\\x07" in out, "control characters escaped in samples:\n" + out)
            check("e.g. 0,1 99999" in out, "a sample is shown:\n" + out)

            append(log, BAD[0] * 5 + BAD[3] * 2 + b"1,3 4\n")
            summary = wait_for(lambda: re.search(r"(\d+) more lines rejected in the last 1 s \(([^)]*)\)", d.output()),
                               "a summary line", attempts=100)
            # The first announcements took one line each; the rest (3 x 4 - 4 + 7) are summarized,
            # possibly over two intervals.
            wait_for(lambda: sum(int(m.group(1)) for m in re.finditer(r"(\d+) more lines rejected", d.output())) == 15,
                     "summaries adding up to the new rejects (first: %s)" % summary.group(0), attempts=100)
            before = d.output().count("more lines rejected")
            time.sleep(2.5)
            check(d.output().count("more lines rejected") == before, "no summary when nothing new is rejected")
            d.stop()
        with Daemon(*args) as d:
            time.sleep(1.5)
            append(log, b"2,5 6\n")
            wait_for(lambda: committed_records(db) == 3, "one more good line")
            check("rejected a line" not in d.output() and "more lines rejected" not in d.output(),
                  "rejects of the earlier run are not announced again:\n" + d.output())
            d.stop()
    print("ok: rejects announced once per reason with escaped samples, then summarized")


if __name__ == "__main__":
    main()
