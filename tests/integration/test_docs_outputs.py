#!/usr/bin/env python3
"""What the docs show a command printing is what it prints: every fenced block in README.md
and docs/*.md that starts with `$ ./build/moescope ...` or `$ moescope ...` is run from the
source root, and the block's lines must be the output's lines in order, a line `...`
standing for any number of lines. The README's first screen is the first thing a new user
compares with their terminal."""
import glob
import os
import re
import shlex
import subprocess

from harness import MOESCOPE, SOURCE, check

PROMPT = re.compile(r"^\$ (?:\./build/)?moescope (.*)$")


def blocks():
    for path in [os.path.join(SOURCE, "README.md")] + sorted(glob.glob(os.path.join(SOURCE, "docs", "*.md"))):
        text = open(path).read()
        for m in re.finditer(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S):
            lines = m.group(1).splitlines()
            if lines and PROMPT.match(lines[0]):
                yield os.path.relpath(path, SOURCE), lines[0], lines[1:]


def matches(want, got):
    """want's lines in got, in order; '...' skips any number of got's lines."""
    i = 0
    for k, w in enumerate(want):
        if w == "...":
            nxt = next((x for x in want[k + 1:] if x != "..."), None)
            if nxt is None:
                return True, ""
            while i < len(got) and got[i] != nxt:
                i += 1
            continue
        if i >= len(got) or got[i] != w:
            return False, "line %d: want %r, got %r" % (k + 1, w, got[i] if i < len(got) else "<end>")
        i += 1
    return i == len(got), "" if i == len(got) else "output goes on: %r" % got[i]


def main():
    n = 0
    env = dict(os.environ, COLUMNS="100")
    for where, prompt, want in blocks():
        args = shlex.split(PROMPT.match(prompt).group(1))
        p = subprocess.run([MOESCOPE, *args], cwd=SOURCE, capture_output=True, text=True, timeout=300, env=env)
        check(p.returncode == 0, "%s: %s exited %d: %s" % (where, prompt, p.returncode, p.stderr))
        ok, why = matches(want, p.stdout.splitlines())
        check(ok, "%s: %s prints otherwise (%s); it prints:\n%s" % (where, prompt, why, p.stdout))
        n += 1
    check(n >= 2, "the README's first screen and DECISIONS' placement are checked (%d blocks)" % n)
    print("ok: %d command outputs shown in the docs are what the commands print" % n)


if __name__ == "__main__":
    main()
