#!/usr/bin/env python3
"""Every section a comment cites exists (issue 31 item 3).

Sources (*.cpp, *.hpp, *.py, *.sh, CMake files, scripts/) cite docs as
docs/<doc>.md "<section>", <doc>.md "<section>" (README.md and BENCHMARKS.md at the top,
every other doc in docs/) or docs/<doc>.md ("<section>", also across comment lines and
string literals. Each must name a file that exists and a section of it: a heading's text,
or its text up to ": " or " (" ("models/" names "models/: reading model files"), or a
paragraph's bold lead-in as the docs write sub-sections ("**Pairing.** Within one stream").

Every broken citation is listed before the test fails."""
import os
import pathlib
import re
import sys

SOURCE = pathlib.Path(os.environ.get("MOESCOPE_SOURCE",
                                     pathlib.Path(__file__).resolve().parents[2]))
SUFFIXES = {".cpp", ".hpp", ".h", ".py", ".sh", ".cmake"}
SKIP_DIRS = {".git", "__pycache__"}

# A comment or a string literal continued on the next line reads as one line.
CONTINUATION = re.compile(r'\s*\n\s*(?://+|#+|\*+)?\s*')
CITATION = re.compile(r'\b((?:docs/)?[A-Z][A-Z_]*\.md)(?:\s+\(?|\s*\()\s*"([^"\n]{1,100})"')


def sources():
    for path in sorted(SOURCE.rglob("*")):
        rel = path.relative_to(SOURCE)
        if any(p in SKIP_DIRS or p.startswith("build") for p in rel.parts[:-1]):
            continue
        if path.is_file() and (path.suffix in SUFFIXES or path.name == "CMakeLists.txt"
                               or rel.parts[0] == "scripts"):
            yield path, rel


def citations(text):
    text = CONTINUATION.sub(" ", text)
    text = re.sub(r'"\s+"', "", text).replace('\\"', '"')  # "a " "b" in C++ is "a b"
    for m in CITATION.finditer(text):
        yield m.group(1), m.group(2)


def headings(path):
    found, fence = [], False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"#{1,6} +(.*?)\s*$", line)):
            found.append(m.group(1).lower())
        elif not fence and (m := re.match(r"\*\*([^*]+?)\.?\*\*", line)):
            found.append(m.group(1).lower())
    return found


def resolve(name):
    """README.md and BENCHMARKS.md live at the top; every other doc in docs/."""
    if name.startswith("docs/") or not (SOURCE / name).exists():
        return SOURCE / "docs" / name.removeprefix("docs/")
    return SOURCE / name


def names(section, heads):
    s = section.lower()
    return any(h == s or h.startswith(s + ": ") or h.startswith(s + " (") for h in heads)


def main():
    problems, count, cache = [], 0, {}
    for path, rel in sources():
        for doc, section in citations(path.read_text(encoding="utf-8", errors="replace")):
            count += 1
            target = resolve(doc)
            if not target.exists():
                problems.append('%s: %s "%s": no such file' % (rel, doc, section))
                continue
            heads = cache.setdefault(target, headings(target))
            if not names(section, heads):
                problems.append('%s: %s "%s": no such heading in %s'
                                % (rel, doc, section, target.relative_to(SOURCE)))
    if count < 100:  # the pattern itself broke: it used to find ~180
        problems.append("only %d citations found: is the citation pattern still right?" % count)
    for p in problems:
        print(p)
    print("%d citations checked, %d broken" % (count, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
