"""Both binaries take --format's choices from the one format registry: the same list in
both --help texts, every listed name accepted (exit 0, or 3 when that format recognises no
record in the line), anything else a usage error (exit 2)."""
import os
import re
import subprocess
import tempfile

from harness import MOESCOPE, MOESCOPED, check, cli


def choices(*cmd):
    """The names --format's help lists ("... auto (detected per line) or one of a, b, c;"),
    its lines joined: --help wraps at the terminal's width."""
    out = " ".join(subprocess.run(list(cmd), capture_output=True, text=True, timeout=60).stdout.split())
    m = re.search(r"--format TEXT(?: \[auto\]|=auto)? Input format: auto \(detected per line\) or one of ([^;]*);", out)
    check(m is not None, "%s lists no --format choices" % " ".join(cmd))
    return ["auto"] + [n.strip() for n in m.group(1).split(",")]


def main():
    analyze = choices(MOESCOPE, "analyze", "--help")
    daemon = choices(MOESCOPED, "--help")
    check(analyze == daemon, "the two binaries list different formats: %s vs %s" % (analyze, daemon))
    check(analyze[0] == "auto" and len(set(analyze)) == len(analyze) >= 4, "choices: %s" % analyze)
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "x.log")
        with open(log, "w") as f:
            f.write("3,1 2\n")
        for name in analyze:
            extra = ["--counts-key", "counts"] if name == "counts-json" else []
            p = cli("analyze", log, "--format", name, *extra, "--json", expect_rc=None)
            check(p.returncode in (0, 3), "--format %s: exit %d: %s" % (name, p.returncode, p.stderr))
        p = cli("analyze", log, "--format", "bogus", expect_rc=2)
        check("bogus" in p.stderr, "unclear error: %r" % p.stderr)
        p = subprocess.run([MOESCOPED, "--format", "bogus", "--db", os.path.join(d, "x.db")],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 2, "moescoped --format bogus exited %d" % p.returncode)


main()
