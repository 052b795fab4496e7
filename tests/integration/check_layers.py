#!/usr/bin/env python3
"""The layers docs/ARCHITECTURE.md declares are the code's (issue 31 item 3).

The table under "Layers: the folders are the architecture" is the one declaration: its rows,
top to bottom, are the folders from highest to lowest, and its "depends on" column names
what each may include ("everything below", "nothing in the project", or folder names).
Checked:

- every dependency a row names is a folder below it (dependencies point one way);
- every `#include "folder/..."` in a folder's .cpp/.hpp names itself or a folder it depends
  on, directly or through the folders those name;
- every folder with sources is in the table.

Every problem is listed before the test fails."""
import os
import pathlib
import re
import sys

SOURCE = pathlib.Path(os.environ.get("MOESCOPE_SOURCE",
                                     pathlib.Path(__file__).resolve().parents[2]))
DOC = SOURCE / "docs" / "ARCHITECTURE.md"
SECTION = "## Layers: the folders are the architecture"
NOT_LAYERS = {"tests", "bench"}  # not libraries: they may include any folder


def declared():
    """[(folder, [named dependencies])] in table order, from the doc."""
    text = DOC.read_text(encoding="utf-8")
    body = text[text.index(SECTION):]
    rows = []
    for line in body.split("\n")[1:]:
        if line.startswith("## "):
            break
        m = re.match(r"\| `([a-z_]+)/` \|.*\| ([^|]*) \|\s*$", line)
        if m:
            rows.append((m.group(1), m.group(2)))
    order = [f for f, _ in rows]
    deps = []
    for i, (folder, text) in enumerate(rows):
        if text.strip().startswith("everything below"):
            names = order[i + 1:]
        else:  # "analytics, models (`UniqueFd`)": the folder names, not the notes
            plain = re.sub(r"\([^)]*\)", "", text)
            names = [w for w in re.findall(r"[a-z_]+", plain) if w in order]
        deps.append((folder, names))
    return deps


def includes(folder):
    """{(file, included folder)} of a folder's sources."""
    found = set()
    for path in sorted((SOURCE / folder).rglob("*")):
        if path.suffix not in {".cpp", ".hpp", ".h"}:
            continue
        for m in re.finditer(r'^\s*#\s*include\s+"([a-z_]+)/', path.read_text(encoding="utf-8"),
                             re.M):
            found.add((str(path.relative_to(SOURCE)), m.group(1)))
    return found


def main():
    problems = []
    deps = declared()
    order = [f for f, _ in deps]
    if len(order) < 8:
        problems.append("%s: the layer table under %r has %d rows; was it reformatted?"
                        % (DOC.name, SECTION, len(order)))
    direct = dict(deps)
    for i, (folder, names) in enumerate(deps):
        for n in names:
            if order.index(n) <= i:
                problems.append("ARCHITECTURE.md: %s/ depends on %s/, which is not below it"
                                % (folder, n))
    for folder in order:
        allowed, todo = {folder}, list(direct[folder])
        while todo:
            f = todo.pop()
            if f not in allowed:
                allowed.add(f)
                todo.extend(direct.get(f, []))
        for path, target in sorted(includes(folder)):
            if target in order and target not in allowed:
                problems.append("%s includes %s/, which %s/ does not depend on (ARCHITECTURE.md "
                                "allows: %s)" % (path, target, folder,
                                                 ", ".join(sorted(allowed - {folder})) or "none"))
    for d in sorted(SOURCE.iterdir()):
        if (d.is_dir() and not d.name.startswith((".", "build")) and d.name not in NOT_LAYERS
                and d.name not in order and any(d.glob("*.cpp"))):
            problems.append("%s/ has sources but no row in the ARCHITECTURE.md layer table"
                            % d.name)
    for p in problems:
        print(p)
    print("%d folders, %d problems" % (len(order), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
