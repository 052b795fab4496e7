#!/usr/bin/env python3
"""The README people finish, and docs whose links hold (issue 31 item 4):

- README.md is under 250 lines and starts with exactly the two commands: the one that sets
  everything up and runs the main job on the bundled sample, and the one that runs the
  whole test suite;
- its first screen is what `moescope summary` prints on that sample today, at most 100
  columns wide;
- every relative link in README.md, BENCHMARKS.md and docs/*.md names a file that exists,
  and every #anchor a heading of that file (GitHub's anchor rules);
- figures are defined in docs/FIGURES.md only: no other page has a table whose header has a
  "definition" column.

Every problem is listed before the test fails."""
import glob
import os
import re
import subprocess

from harness import MOESCOPE, SOURCE

README = os.path.join(SOURCE, "README.md")
MAX_README_LINES = 250
SETUP = "./scripts/setup && ./build/moescope analyze samples/llama_server/moe_expert_selection.log"
TEST = "./scripts/test"
SAMPLE = "samples/llama_server/moe_expert_selection.log"

problems = []


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped,
    spaces as hyphens (inline code and emphasis markers are punctuation too)."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def strip_code(text):
    """Markdown without fenced blocks and inline code, where brackets are not links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "code", text)


def anchors(path):
    found, seen = set(), {}
    in_fence = False
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        m = None if in_fence else re.match(r"(#{1,6}) +(.*?)#*\s*$", line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else "%s-%d" % (base, n))
    return found


def check_readme():
    lines = open(README, encoding="utf-8").read().split("\n")
    if len(lines) - 1 >= MAX_README_LINES:  # the text ends with a newline
        problems.append("README.md has %d lines; it must stay under %d (move detail into docs/)"
                        % (len(lines) - 1, MAX_README_LINES))
    # The title, then the first block: exactly the two commands, before anything else.
    body = [l for l in lines[1:] if l.strip()]
    if body[:4] != ["```sh", SETUP, TEST, "```"]:
        problems.append("README.md must start (after its title) with a sh block of exactly two "
                        "commands:\n    %s\n    %s\n  it starts with:\n    %s"
                        % (SETUP, TEST, "\n    ".join(body[:4])))


def check_first_screen():
    text = open(README, encoding="utf-8").read()
    prompt = "$ ./build/moescope summary " + SAMPLE
    m = re.search(r"```\n" + re.escape(prompt) + r"\n(.*?)```", text, re.S)
    if not m:
        problems.append("README.md has no first screen: a block starting with '%s'" % prompt)
        return
    shown = m.group(1)
    for line in shown.split("\n"):
        if len(line) > 100:
            problems.append("README.md's first screen has a line of %d columns: %r" % (len(line), line))
    p = subprocess.run([MOESCOPE, "summary", os.path.join(SOURCE, SAMPLE)],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        problems.append("moescope summary %s exited %d: %s" % (SAMPLE, p.returncode, p.stderr))
    elif p.stdout != shown:
        problems.append("README.md's first screen is not what `moescope summary %s` prints now; "
                        "paste the new output.\n--- README\n%s--- moescope\n%s" % (SAMPLE, shown, p.stdout))


def check_links(path):
    rel = os.path.relpath(path, SOURCE)
    text = strip_code(open(path, encoding="utf-8").read())
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        target = m.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(dest):
            problems.append("%s: link to %s: no such file" % (rel, target))
            continue
        if anchor:
            if not dest.endswith(".md"):
                problems.append("%s: link to %s: an anchor into a file that is not Markdown" % (rel, target))
            elif anchor not in anchors(dest):
                problems.append("%s: link to %s: %s has no heading with anchor #%s"
                                % (rel, target, os.path.relpath(dest, SOURCE), anchor))


def check_one_definition(path):
    if os.path.basename(path) == "FIGURES.md":
        return
    for i, line in enumerate(open(path, encoding="utf-8"), 1):
        cells = [c.strip().lower() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if "definition" in cells:
            problems.append("%s:%d: a table of definitions; figures are defined in docs/FIGURES.md only "
                            "(link to it instead)" % (os.path.relpath(path, SOURCE), i))


def main():
    check_readme()
    check_first_screen()
    pages = [README, os.path.join(SOURCE, "BENCHMARKS.md")] + sorted(glob.glob(os.path.join(SOURCE, "docs", "*.md")))
    for page in pages:
        check_links(page)
        check_one_definition(page)
    if problems:
        print("FAIL: %d problem(s) in the docs:" % len(problems))
        for p in problems:
            print("- " + p)
        raise SystemExit(1)
    print("ok: README.md %d lines, %d pages' links and anchors resolve"
          % (len(open(README).read().split("\n")) - 1, len(pages)))


if __name__ == "__main__":
    main()
