#!/usr/bin/env python3
"""`prune --check` with a keep-list that does not fit the records (issue 28): planned for
another model (its "model" differs from the records' model id) or naming layers without
records here. Before: costed silently as if it fitted. Now: one warning line each on
stderr, the costs as before; with --strict one line and exit 2."""
import json
import os
import tempfile

from harness import check, cli, cli_json


def write(path, lines):
    with open(path, "w") as f:
        for x in lines:
            f.write(json.dumps(x) + "\n")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "run.ndjson")
        recs = [{"type": "meta", "model_id": "org/model-a", "num_experts": 8, "top_k": 2}]
        recs += [{"layer": l, "experts": [(i + l) % 8, (i + l + 3) % 8]} for i in range(40) for l in (0, 1)]
        write(log, recs)
        good = os.path.join(tmp, "good.json")
        cli("prune", "--keep", "4", "--export", good, log)
        check(json.load(open(good))["model"] == "org/model-a", "export names the model")

        # A fitting keep-list: no warning, exit 0, also with --strict.
        p = cli("prune", "--check", good, "--strict", log)
        check(p.stderr == "", "a fitting keep-list warns nothing: %r" % p.stderr)

        # Another model, and a layer (5) without records here.
        other = os.path.join(tmp, "other.json")
        json.dump({"model": "org/model-b", "layers": {"0": [0, 1, 2, 3], "5": [1, 2]}}, open(other, "w"))
        p = cli("prune", "--check", other, log, "--json", expect_rc=0)
        lines = p.stderr.strip().splitlines()
        check(len(lines) == 2, "two warning lines: %r" % p.stderr)
        check("'org/model-b'" in lines[0] and "'org/model-a'" in lines[0], "model named: %r" % lines[0])
        check("layer 5 without records" in lines[1] and "layers 0 to 1" in lines[1], "layer named: %r" % lines[1])
        doc = json.loads(p.stdout)
        check([l["layer"] for l in doc["layers"]] == [0, 1], "costs still printed: %r" % doc["layers"])
        check(doc["layers"][0]["drop"] == [4, 5, 6, 7], "layer 0 drops the rest: %r" % doc["layers"][0]["drop"])

        p = cli("prune", "--check", other, "--strict", log, expect_rc=2)
        lines = p.stderr.strip().splitlines()
        check(len(lines) == 1 and "org/model-b" in lines[0] and "layer 5" in lines[0] and p.stdout == "",
              "--strict: one line, exit 2, no output: %r %r" % (p.stderr, p.stdout))

        # A CSV keep-list names no model: only the layers are checked.
        csv = os.path.join(tmp, "k.csv")
        open(csv, "w").write("layer,expert\n0,1\n1,2\n")
        check(cli("prune", "--check", csv, "--strict", log).stderr == "", "CSV keep-list fits")
        # --strict means nothing without --check: refused.
        cli("prune", "--keep", "3", "--strict", log, expect_rc=2)
    print("ok: prune --check names another model and layers without records; --strict exits 2")


if __name__ == "__main__":
    main()
