#!/usr/bin/env python3
"""--help fits 100 columns (issue 31): `moescope --help`, `moescope CMD --help` for every
command that `moescope --help` lists (not a list kept here), and `moescoped --help`, at
COLUMNS=100, every line at most 100 characters; --format names its values and points to
`moescope formats`, which lists each with a description."""
import json
import os
import subprocess

from harness import MOESCOPE, MOESCOPED, check

ENV = dict(os.environ, COLUMNS="100")


def help_text(*cmd):
    p = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, env=ENV)
    check(p.returncode == 0, "%s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr))
    return p.stdout


def fits(text, what):
    long = [(len(l), l) for l in text.splitlines() if len(l) > 100]
    check(not long, "%s: %d lines over 100 columns, e.g. %d: %r" % (what, len(long), *(long[0] if long else (0, ""))))


def commands(main_help):
    """The first word of each line of the SUBCOMMANDS section (descriptions wrap under
    themselves, indented further)."""
    lines = main_help.splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip().upper().startswith("SUBCOMMANDS"))
    names = [l.split()[0] for l in lines[start + 1:] if l.startswith("  ") and not l.startswith("   ")]
    check(len(names) >= 20, "commands found in moescope --help: %r" % names)
    return names


def main():
    top = help_text(MOESCOPE, "--help")
    fits(top, "moescope --help")
    names = commands(top)
    for name in names:
        fits(help_text(MOESCOPE, name, "--help"), "moescope %s --help" % name)
    daemon = help_text(MOESCOPED, "--help")
    fits(daemon, "moescoped --help")

    # --format: the names, and where their descriptions are; no 800-column list.
    formats = json.loads(subprocess.run([MOESCOPE, "formats", "--json"], capture_output=True, text=True,
                                        timeout=60).stdout)["formats"]
    names_f = [f["format"] for f in formats]
    check(names_f[0] == "auto" and len(names_f) >= 5 and all(f["reads"] for f in formats), "formats: %r" % formats)
    for text, what in ((help_text(MOESCOPE, "analyze", "--help"), "analyze"), (daemon, "moescoped")):
        flat = " ".join(text.split())
        check("`moescope formats` says what each reads" in flat, "%s --help points to moescope formats" % what)
        for n in names_f[1:]:
            check(" %s," % n in flat or " %s;" % n in flat, "%s --help names format %s" % (what, n))
    fits(subprocess.run([MOESCOPE, "formats"], capture_output=True, text=True, timeout=60).stdout, "formats")
    print("ok: --help of moescope, its %d commands and moescoped within 100 columns" % len(names))


if __name__ == "__main__":
    main()
