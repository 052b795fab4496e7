#!/usr/bin/env python3
"""Engines' own expert recorders (issue 15): each sample in samples/recorders is imported
(`moescope import`) and analysed (`moescope analyze`), and hits and imbalance figures are
checked against numpy computed from the same files. A directory of per-rank files sums the
ranks; lmdeploy's cumulative dumps count once (the last step); count-only data refuses the
per-token commands with exit 3 and a one-line reason."""
import base64
import csv
import json
import os
import re
import struct
import tempfile

import numpy as np

from harness import SOURCE, Daemon, check, cli, cli_json, hits_by_layer, ingest

REC = os.path.join(SOURCE, "samples", "recorders")
REAL = os.path.join(SOURCE, "samples", "realdata", "sglang", "deepseek_v3_prefill_in512.json")


def sglang_json(path):
    a = np.array(json.load(open(path))["logical_count"], dtype=float)
    return a.sum(axis=0) if a.ndim == 3 else a


def sglang_csv_dir(d):
    tables = {}
    for name in sorted(os.listdir(d)):
        for r in csv.DictReader(open(os.path.join(d, name))):
            tables.setdefault(int(r["layer_id"]), {}).setdefault(int(r["expert_id"]), 0)
            tables[int(r["layer_id"])][int(r["expert_id"])] += int(r["count"])
    return tables


def lmdeploy_last(d):
    names = [n for n in os.listdir(d) if n.endswith("_experts_counts.json")]
    last = max(names, key=lambda n: int(n.split("_step")[1].split("_")[0]))
    return np.array(json.load(open(os.path.join(d, last))), dtype=float)


def moe_trace(path):
    t = {}
    for r in csv.DictReader(open(path)):
        t.setdefault(int(r["layer"]), {}).setdefault(int(r["expert"]), 0)
        t[int(r["layer"])][int(r["expert"])] += 1
    return t


def gguf_tensors(path):
    """{name: float array} of a GGUF v3 file's F32 tensors, read here (ggml/docs/gguf.md)."""
    b = open(path, "rb").read()
    pos = 4 + 4
    n_t, n_kv = struct.unpack_from("<QQ", b, pos)
    pos += 16
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    meta = {}

    def value(t):
        nonlocal pos
        if t == 8:
            n, = struct.unpack_from("<Q", b, pos)
            pos += 8 + n
            return b[pos - n:pos].decode()
        if t == 9:
            et, n = struct.unpack_from("<IQ", b, pos)
            pos += 12
            return [value(et) for _ in range(n)]
        pos += sizes[t]
        return b[pos - sizes[t]:pos]

    for _ in range(n_kv):
        key = value(8)
        t, = struct.unpack_from("<I", b, pos)
        pos += 4
        meta[key] = value(t)
    infos = []
    for _ in range(n_t):
        name = value(8)
        nd, = struct.unpack_from("<I", b, pos)
        ne = struct.unpack_from("<%dQ" % nd, b, pos + 4)
        t, off = struct.unpack_from("<IQ", b, pos + 4 + 8 * nd)
        pos += 4 + 8 * nd + 12
        infos.append((name, ne, t, off))
    align = struct.unpack("<I", meta["general.alignment"])[0] if "general.alignment" in meta else 32
    data = pos + (-pos) % align
    return {n: np.frombuffer(b, "<f4", int(np.prod(ne)), data + off)
            for n, ne, t, off in infos if t == 0}


def imatrix(path):
    """{layer: counts} from blk.N.ffn_down_exps.weight.counts."""
    out = {}
    for name, a in gguf_tensors(path).items():
        m = re.fullmatch(r"blk\.(\d+)\.ffn_down_exps\.weight\.counts", name)
        if m:
            out[int(m.group(1))] = dict(enumerate(int(v) for v in a))
    return out


def safetensors(path):
    b = open(path, "rb").read()
    n, = struct.unpack_from("<Q", b)
    head = json.loads(b[8:8 + n])
    dt = {"I64": "<i8", "I32": "<i4", "F32": "<f4"}
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                             dt[v["dtype"]])
            for k, v in head.items() if k != "__metadata__"}


def trtllm_dir(d):
    """{layer: counts} summed over rank files and "{iter}_{layer}" tensors."""
    out = {}
    for name in os.listdir(d):
        if re.fullmatch(r"rank\d+\.safetensors", name):
            for key, a in safetensors(os.path.join(d, name)).items():
                row = out.setdefault(int(key.split("_")[1]), {})
                for e, v in enumerate(a):
                    row[e] = row.get(e, 0) + int(v)
    return out


def as_table(x, E):
    """{layer: [E hits]} from a [layers][experts] array (all-zero rows dropped) or dicts."""
    out = {}
    if isinstance(x, dict):
        for l, row in x.items():
            out[l] = [row.get(e, 0) for e in range(E)]
    else:
        for l, row in enumerate(x):
            if row.sum() > 0:
                out[l] = [int(v) for v in row]
    return out


def figures(h):
    h = np.array(h, dtype=float)
    E, mean = len(h), h.mean()
    s = np.sort(h)
    gini = (2 * np.arange(E) - E + 1) @ s / (E * E * mean)
    return {"cv": h.std(ddof=1) / mean, "max_over_mean": h.max() / mean, "gini": gini}


def check_doc(doc, want, what):
    got = hits_by_layer(doc)
    check(sorted(got) == sorted(want), "%s: layers %s, wanted %s" % (what, sorted(got), sorted(want)))
    layers = {l["layer"]: l for l in doc["layers"] if l["tag"] == "all"}
    for l, h in want.items():
        gh = [got[l].get(e, 0) for e in range(len(h))]
        check(gh == h, "%s layer %d: hits %s, wanted %s" % (what, l, gh, h))
        for key, v in figures(h).items():
            check(abs(layers[l][key] - v) < 1e-9 * max(1, abs(v)),
                  "%s layer %d: %s %r, numpy %r" % (what, l, key, layers[l][key], v))


def run(tmp, name, inputs, want):
    doc = cli_json("analyze", *inputs)
    check_doc(doc, want, name + " analyze")
    db = os.path.join(tmp, name + ".db")
    out = cli("import", *inputs, "--db", db, "--tag", name).stdout
    check("imported" in out, name + ": import said " + out)
    doc = cli_json("--db", db, "layers")
    check_doc(doc, want, name + " import")
    tags = {t["tag"]: t for t in cli_json("--db", db, "tags")["tags"]}
    check(tags.get(name, {}).get("data") == "count-only", name + ": `tags` says %s" % tags)
    return db


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sj = os.path.join(REC, "sglang", "expert_distribution.json")
        db = run(tmp, "sglang", [sj], as_table(sglang_json(sj), 16))
        d = os.path.join(REC, "sglang_csv")
        run(tmp, "sglangcsv", [d], as_table(sglang_csv_dir(d), 16))
        d = os.path.join(REC, "lmdeploy")
        run(tmp, "lmdeploy", [d], as_table(lmdeploy_last(d), 16))
        t = os.path.join(REC, "moe_trace", "moe_trace.csv")
        run(tmp, "moetrace", [t], as_table(moe_trace(t), 16))
        g = os.path.join(REC, "imatrix", "imatrix.gguf")
        run(tmp, "imatrix", [g], as_table(imatrix(g), 16))
        d = os.path.join(REC, "trtllm")
        trt = as_table(trtllm_dir(d), 16)
        run(tmp, "trtllm", [d], trt)
        # meta_info.json's num_experts_per_token is the k: tokens = selections / k.
        k = json.load(open(os.path.join(d, "meta_info.json")))["num_experts_per_token"]
        summ = cli_json("summary", d)["summary"]
        check(summ.get("top_k") == k, "trtllm top-k: %s" % summ.get("top_k"))

        # Forwarded engine responses: per-token records, split by phase.
        routed = os.path.join(REC, "routed", "routed_experts.ndjson")
        want = {"all": {}, "prefill": {}, "decode": {}}
        for line in open(routed):
            rec = json.loads(line)
            r = rec["routed_experts"]
            if isinstance(r, str):
                r = np.frombuffer(base64.b64decode(r), dtype="<i4").reshape(
                    -1, rec["num_layers"], rec["top_k"])
            r = np.array(r)
            for tag in ("all", rec["phase"]):
                for l in range(r.shape[1]):
                    h = want[tag].setdefault(l, [0] * 16)
                    for e in r[:, l, :].ravel():
                        h[e] += 1
        check_doc(cli_json("analyze", routed), want["all"], "routed all")
        for phase in ("prefill", "decode"):
            doc = cli_json("layers", routed, "--phase", phase)
            got = hits_by_layer(doc, phase)
            for l, h in want[phase].items():
                check([got[l].get(e, 0) for e in range(16)] == h, "routed %s layer %d" % (phase, l))
        cli("cooc", routed, "--layer", "0")  # per-token data: co-occurrence works
        tags = {t["tag"]: t["data"] for t in cli_json("tags", routed)["tags"]}
        check(tags == {"all": "per-token", "prefill": "per-token", "decode": "per-token"},
              "routed tags: %s" % tags)

        # moescoped follows a growing recorder file (moe-trace CSV) like any log.
        fdb = ingest(os.path.join(tmp, "follow.db"), [t], sum(1 for _ in open(t)) - 1)
        check_doc(cli_json("--db", fdb, "layers"), as_table(moe_trace(t), 16), "moe-trace followed")

        # A database a running moescoped writes is refused: the daemon would overwrite it.
        with Daemon("--db", fdb, "--follow", t, "--flush-ms", "50") as d:
            d.wait_ready()
            p = cli("import", sj, "--db", fdb, expect_rc=2)
            check("running moescoped" in p.stderr, "import into a live database: " + p.stderr)
            d.stop()

        # The per-rank files one by one: a directory is their sum, not any one of them.
        ranks = sorted(os.listdir(os.path.join(REC, "sglang_csv")))
        one = hits_by_layer(cli_json("analyze", os.path.join(REC, "sglang_csv", ranks[0])))
        both = hits_by_layer(cli_json("analyze", os.path.join(REC, "sglang_csv")))
        check(sum(both[0].values()) > sum(one[0].values()), "directory did not sum the ranks")

        # The summary says what the data is instead of "top-0, N routing records".
        out = cli("summary", sj).stdout
        check("count-only" in out.splitlines()[0] and "top-0" not in out, "summary: " + out)

        # Importing the same file twice would count it twice: refused, exit 2.
        p = cli("import", sj, "--db", db, expect_rc=2)
        check("already counts it" in p.stderr, "second import: " + p.stderr)

        # Count-only data: per-token commands say so (exit 3, one line), never zeros.
        for cmd in (["cooc"], ["logits"], ["gates"]):
            p = cli("--db", db, *cmd, "--tag", "sglang", expect_rc=3)
            check("count-only" in p.stderr and p.stderr.count("\n") == 1,
                  "%s on count-only data: %r" % (cmd, p.stderr))
        p = cli("cache", "--capacity", "4", sj, expect_rc=3)
        check("count-only" in p.stderr, "cache on count-only data: %r" % p.stderr)

        # The published DeepSeek-V3 statistics: 61 layers, the 3 dense ones not shown.
        if os.path.exists(REAL):
            want = as_table(sglang_json(REAL), 256)
            check(len(want) == 58, "real file: %d MoE layers" % len(want))
            check_doc(cli_json("analyze", REAL), want, "deepseek-v3")
    print("ok")


if __name__ == "__main__":
    main()
