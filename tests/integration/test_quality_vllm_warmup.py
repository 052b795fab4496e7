#!/usr/bin/env python3
"""Issue 28: vLLM's warm-up passes (two runs of 8,192 identical routings per layer) no longer
decide the verdict. summary, layers and the quality section rest on the other records and
equal numpy on them; --keep-suspect counts them and says so; a database keeps the policy it
was counted with and refuses the option."""
import os
import tempfile

import numpy as np

import quality_reference as ref
from harness import check, cli, cli_json

E = 60


def figures_equal(doc, records, trusted_only, label):
    layers, h = ref.hits(records, E, trusted_only)
    got = {l["layer"]: l for l in doc["layers"] if l["tag"] == "all"}
    check(sorted(got) == layers, label + ": layers")
    for l in layers:
        g = got[l]
        check(g["tokens"] == sum(1 for x, _, t in records if x == l and (t or not trusted_only)),
              "%s layer %d: tokens %d" % (label, l, g["tokens"]))
        check([e["hits"] for e in sorted(g["experts"], key=lambda e: e["expert"])] == h[l].tolist(),
              "%s layer %d: hits" % (label, l))
        check(abs(g["gini"] - ref.gini(h[l])) < 1e-9, "%s layer %d: Gini %r vs numpy %r"
              % (label, l, g["gini"], ref.gini(h[l])))
    return h


def hot(h):
    mean = h.sum(1, keepdims=True) / h.shape[1]
    return sorted((int(l), int(e)) for l, e in zip(*np.nonzero(h >= 2 * mean)))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = ref.generate(tmp)
        records = ref.vllm_records(path)
        left = sum(1 for _, _, t in records if not t)

        doc = cli_json("analyze", path)
        h = figures_equal(doc, records, True, "default")
        s = doc["summary"]
        check(sorted((x["layer"], x["expert"]) for x in s["hot"]) == hot(h), "hot experts as numpy")
        check(all(w["code"] != "identical_routing_run" for w in s["warnings"]),
              "a run that was left out is not a warning: %r" % s["warnings"])
        q = doc["quality"]
        check(q["policy"] == "leave_out" and q["left_out"] == left and q["remaining"] == [],
              "quality: %r" % {k: q[k] for k in ("policy", "left_out", "remaining")})
        runs = [c for c in q["checks"] if c["code"] == "identical_routing_run"][0]
        check(runs["count"] == 8 and runs["left_out"] == left, "identical runs: %r" % runs)
        per_layer = {(x["tag"], x["layer"]): x["records"] for x in runs["layers"]}
        for l in range(4):
            check(per_layer[("all", l)] == 2 * 8191, "layer %d: records left out" % l)
        check(per_layer[("all", None)] == left, "all layers: records left out")
        check(runs["sources"] == [{"source": path, "records": left}], "per source")
        text = cli("summary", path).stdout
        check("quality         %d records left out" % left in text, "the summary names it:\n" + text)
        check("warnings        none" in text, "and warns of nothing else:\n" + text)
        # Every --json has the section, decisions warn only when a defect is still counted.
        check(cli_json("tags", path)["quality"]["left_out"] == left, "tags --json")
        check(not cli("cache", path, "--capacity", "8").stdout.startswith("warning"), "cache: no warning")

        keep = cli_json("analyze", path, "--keep-suspect")
        hk = figures_equal(keep, records, False, "--keep-suspect")
        check(ref.gini(hk[0]) > 0.7 > 0.25 > ref.gini(h[0]), "the warm-up decided the Gini: %.3f vs %.3f"
              % (ref.gini(hk[0]), ref.gini(h[0])))
        check(keep["quality"]["policy"] == "keep" and keep["quality"]["remaining"] == ["identical_routing_run"],
              "--keep-suspect: %r" % keep["quality"]["remaining"])
        text = cli("summary", path, "--keep-suspect").stdout
        check("identical runs still counted" in text, "the summary warns:\n" + text)
        for cmd in (["cache", path, "--capacity", "8"], ["place", path, "--gpus", "4"],
                    ["prune", path, "--keep-coverage", "0.9"], ["coverage", path],
                    ["compare", path + "=a", path + "=b", "--tag", "a", "--vs", "b"]):
            out = cli(cmd[0], "--keep-suspect", *cmd[1:]).stdout
            # compare opens with its one-line verdict (issue 31), the warning right under it.
            if cmd[0] == "compare":
                check(out.startswith("verdict: "), "compare: the verdict first:\n" + out[:300])
                out = out.split("\n", 1)[1]
            check(out.startswith("warning: identical runs still counted"), "%s warns first:\n%s" % (cmd[0], out[:300]))

        # A database counted by `import` keeps the policy; the option cannot apply to it.
        db = os.path.join(tmp, "q.db")
        cli("import", path, "--db", db)
        stored = cli_json("--db", db, "summary")
        check(stored["summary"] == doc["summary"], "the database's summary is the files'")
        check(stored["quality"]["policy"] == "as stored" and stored["quality"]["left_out"] == left,
              "the database's quality section: %r" % stored["quality"]["left_out"])
        p = cli("--db", db, "summary", "--keep-suspect", expect_rc=2)
        check(p.stderr.count("\n") == 1 and "--keep-suspect applies to FILE arguments" in p.stderr,
              "refused in one line: %r" % p.stderr)
        print("ok: %d warm-up records left out; Gini %.3f (numpy), %.3f with them" % (left, ref.gini(h[0]),
                                                                                    ref.gini(hk[0])))


if __name__ == "__main__":
    main()
