#!/usr/bin/env python3
"""`--tag-from-name` (issue 31): `import DIR` summed twelve workloads under one tag; with the
option each file is its own tag, named after the file (directory and extensions dropped),
for import and for queries on FILE arguments alike. Refused with one line where it cannot
apply: standard input, FILE=TAG, import --tag, a database. Imported files show in `sources`
as read once, not as stalled ingests."""
import gzip
import json
import os
import random
import subprocess
import tempfile

from harness import MOESCOPE, check, cli, cli_json


def one_line(rc, *args, stdin=None):
    p = subprocess.run([MOESCOPE, *args], capture_output=True, text=True, timeout=60, input=stdin)
    check(p.returncode == rc, "moescope %s: exit %d, wanted %d: %s" % (" ".join(args), p.returncode, rc, p.stderr))
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1, "one stderr line: %r" % p.stderr)
    return lines[0]


def records(n, hot, rnd):
    return "".join(json.dumps({"layer": l, "experts": [hot, rnd.randrange(8, 16)]}) + "\n"
                   for _ in range(n) for l in range(3))


def main():
    rnd = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        runs = os.path.join(tmp, "runs")
        os.mkdir(runs)
        want = {"chat": 120, "code": 75, "math": 180}  # records per workload: 3 layers a token
        open(os.path.join(runs, "chat.ndjson"), "w").write(records(want["chat"] // 3, 1, rnd))
        open(os.path.join(runs, "code.log"), "w").write(records(want["code"] // 3, 2, rnd))
        with gzip.open(os.path.join(runs, "math.jsonl.gz"), "wt") as f:
            f.write(records(want["math"] // 3, 3, rnd))

        # Queries on FILE arguments: one tag per file, with that file's records.
        tags = {t["tag"]: t["records"] for t in cli_json("tags", runs, "--tag-from-name")["tags"]}
        check(tags == dict(want, all=sum(want.values())), "tags of the files: %r" % tags)
        layer = cli_json("experts", runs, "--tag-from-name", "--tag", "math", "--layer", "0")
        top = layer["experts"][0] if "experts" in layer else layer["layers"][0]["experts"][0]
        check(top["expert"] == 3 and top["hits"] == 60, "math's hot expert: %r" % top)
        check([t["tag"] for t in cli_json("tags", runs)["tags"]] == ["all"], "without it: one tag, all")

        # import DIR: the same tags in the database, and sources say "imported".
        db = os.path.join(tmp, "i.db")
        cli("import", runs, "--db", db, "--tag-from-name")
        tags = {t["tag"]: t["records"] for t in cli_json("--db", db, "tags")["tags"]}
        check(tags == dict(want, all=sum(want.values())), "imported tags: %r" % tags)
        src = cli_json("--db", db, "sources")["sources"]
        check(len(src) == 3 and all(s["kind"] == "import" and not s["active"] and "lag_bytes" not in s for s in src),
              "imported sources are not ingests: %r" % src)
        text = cli("--db", db, "sources").stdout
        check(text.count("imported  read once") == 3 and "lag" not in text and "active" not in text,
              "sources text: imported, no lag: %s" % text)
        check(max(len(l) for l in text.splitlines()) <= 100, "sources within 100 columns")

        # Where it cannot apply: one line, exit 2.
        msg = one_line(2, "import", runs, "--db", os.path.join(tmp, "j.db"), "--tag-from-name", "--tag", "x")
        check("--tag" in msg, msg)
        msg = one_line(2, "tags", "-", "--tag-from-name", stdin=records(2, 1, rnd))
        check("standard input" in msg, msg)
        msg = one_line(2, "tags", os.path.join(runs, "code.log") + "=mine", "--tag-from-name")
        check("names its tag already" in msg, msg)
        msg = one_line(2, "--db", db, "tags", "--tag-from-name")
        check("--tag-from-name" in msg and "FILE arguments" in msg, msg)
        check("--tag-from-name" in cli("import", "--help").stdout, "import --help shows it")

        # Records that carry their own tag keep it; the file's name then tags nothing and is
        # not listed as a workload of 0 records (a review found gsm8k_2_routing: 0 beside gsm8k).
        own = os.path.join(tmp, "own_tag.ndjson")
        with open(own, "w") as f:
            f.write("".join(json.dumps({"layer": l, "experts": [l, l + 1], "tag": "chat"}) + "\n" for l in range(4)))
        got = {t["tag"]: t["records"] for t in cli_json("tags", own, "--tag-from-name")["tags"]}
        check(got == {"all": 4, "chat": 4}, "no empty tag of the file's name: %r" % got)
        check("own_tag" not in cli("tags", own, "--tag-from-name").stdout, "nor in the text")
    print("ok: --tag-from-name tags each file by its name; refused where it cannot apply")


if __name__ == "__main__":
    main()
