#!/usr/bin/env python3
"""UniqueFd (models/unique_fd.hpp) is the one owner of file descriptors (issue 31 item 3):
no other source calls close(2). A descriptor closed by hand is one a new early return leaks;
tests/unit/test_fd_ownership.cpp counts the descriptors of the owners there are.

Every hand-made close is listed before the test fails."""
import os
import pathlib
import re
import sys

SOURCE = pathlib.Path(os.environ.get("MOESCOPE_SOURCE",
                                     pathlib.Path(__file__).resolve().parents[2]))
OWNER = "models/unique_fd.hpp"
LIBRARIES = ["analytics", "cli", "daemon", "decisions", "ingest", "models", "options",
             "parsers", "storage", "tracing"]
# ::close(x), or a bare close(fd...) call; not a member (`socket_.close(ec)`, `c->close()`,
# `void LiveKde::close(double now)`).
CLOSE = re.compile(r"(?<![\w>.])::close\s*\(|(?<![\w.>:])close\s*\(\s*[\w.\->]*fd")


def main():
    problems = []
    for folder in LIBRARIES:
        for path in sorted((SOURCE / folder).rglob("*")):
            rel = str(path.relative_to(SOURCE))
            if path.suffix not in {".cpp", ".hpp"} or rel == OWNER:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
                code = line.split("//")[0]
                if CLOSE.search(code):
                    problems.append("%s:%d: closes a descriptor by hand (hold a UniqueFd): %s"
                                    % (rel, n, line.strip()))
    for p in problems:
        print(p)
    print("%d hand-made closes outside %s" % (len(problems), OWNER))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
