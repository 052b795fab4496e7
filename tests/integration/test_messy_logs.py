#!/usr/bin/env python3
"""Issue 11 on real and generated logs: one short first line of a layer costs only itself
(analyze and moescoped --stdin); .gz and .zst files give the figures of the plain file, and
a truncated .gz keeps what was read with a truncated_input warning; runs of identical
routing are warned about in JSON and text and left out unless --keep-suspect."""
import gzip
import json
import os
import shutil
import subprocess
import tempfile

from harness import MOESCOPED, SOURCE, check, cli, cli_json, hits_by_layer

GSM8K = os.path.join(SOURCE, "samples", "realdata", "mixtral", "gsm8k_2_routing.jsonl")


def rejects(doc, reason):
    return sum(s["rejects"].get(reason, {}).get("count", 0) for s in doc["sources"])


def poisoned_layer(tmp):
    # The real Mixtral trace as llama-server CSV, a 3-expert line for layer 5 first.
    recs = [json.loads(l) for l in open(GSM8K)]
    csv = "layer_id,expert_ids\n5,1 2 3\n" + "".join(
        "%d,%s\n" % (r["layer"], " ".join(map(str, r["experts"]))) for r in recs)
    path = os.path.join(tmp, "poisoned.csv")
    open(path, "w").write(csv)
    layer5 = sum(1 for r in recs if r["layer"] == 5)
    doc = cli_json("analyze", path)
    l5 = [l for l in doc["layers"] if l["tag"] == "all" and l["layer"] == 5][0]
    check(l5["tokens"] == layer5, "analyze: layer 5 has %d of %d records" % (l5["tokens"], layer5))
    check(rejects(doc, "topk_changed") == 1, "analyze: the odd line alone is topk_changed")

    db = os.path.join(tmp, "stdin.db")
    p = subprocess.run([MOESCOPED, "--db", db, "--stdin"], input=csv.encode(), capture_output=True, timeout=120)
    check(p.returncode == 0, "moescoped --stdin: %s" % p.stderr.decode())
    stored = cli_json("--db", db, "layers")
    check(hits_by_layer(stored) == hits_by_layer(doc), "moescoped --stdin == analyze")
    check(rejects(cli_json("--db", db, "sources"), "topk_changed") == 1, "daemon: one topk_changed")
    print("  one short first line of layer 5: %d records kept, 1 rejected" % layer5)


def compressed(tmp):
    plain = os.path.join(tmp, "moe.log")
    shutil.copy(GSM8K, plain)
    data = open(plain, "rb").read()
    with gzip.open(plain + ".1.gz", "wb") as f:
        f.write(data)
    subprocess.run(["zstd", "-q", "-f", plain, "-o", plain + ".2.zst"], check=True)
    want = hits_by_layer(cli_json("analyze", plain))
    for name in (plain + ".1.gz", plain + ".2.zst"):
        check(hits_by_layer(cli_json("analyze", name)) == want, "%s == the plain file" % name)
    both = cli_json("analyze", plain + ".1.gz", plain + ".2.zst")
    check(sum(s["records"] for s in both["sources"]) == 2 * len(data.splitlines()), "a rotated history read")

    cut = os.path.join(tmp, "cut.gz")
    gz = open(plain + ".1.gz", "rb").read()
    open(cut, "wb").write(gz[: len(gz) // 2])
    p = cli("analyze", "--json", cut)
    doc = json.loads(p.stdout)
    w = [x for x in doc["warnings"] if x["code"] == "truncated_input"]
    check(len(w) == 1 and w[0]["source"] == cut, "truncated_input names the file: %r" % doc["warnings"])
    got = doc["sources"][0]["records"]
    check(0 < got < len(data.splitlines()), "what was read is kept (%d records)" % got)
    text = cli("analyze", cut).stdout
    check("cut.gz ends inside compressed data" in text, "the text says so")
    print("  plain == .gz == .zst; a truncated .gz keeps %d records and warns" % got)


def identical_runs(tmp):
    path = os.path.join(tmp, "warmup.jsonl")
    with open(path, "w") as f:
        for i in range(2000):
            f.write(json.dumps({"layer": i % 2, "experts": [i % 8, 8 + i % 3]}) + "\n")
        for run in range(2):
            for i in range(8192):
                f.write(json.dumps({"layer": 0, "experts": [2 + run, 5], "weights": [0.6, 0.4]}) + "\n")
    for keep in (False, True):
        doc = cli_json("analyze", path, *(["--keep-suspect"] if keep else []))
        w = [x for x in doc["warnings"] if x["code"] == "identical_routing_run"]
        check(len(w) == 1 and w[0]["count"] == 2 and w[0]["records"] == 16384, "warning: %r" % doc["warnings"])
        check(w[0]["excluded"] == (0 if keep else 2 * 8191), "excluded: %r" % w[0])
        l0 = [l for l in doc["layers"] if l["tag"] == "all" and l["layer"] == 0][0]
        want = 1000 + (2 * 8192 if keep else 2)
        check(l0["tokens"] == want, "keep %s: layer 0 has %d tokens, not %d" % (keep, l0["tokens"], want))
    check("identical routings" in cli("layers", path).stdout, "layers text warns")
    check("identical routings" in cli("analyze", path).stdout, "analyze text warns")
    print("  two runs of 8,192 identical routings: left out by default, kept with --keep-suspect")


with tempfile.TemporaryDirectory() as tmp:
    poisoned_layer(tmp)
    compressed(tmp)
    identical_runs(tmp)
print("ok")
