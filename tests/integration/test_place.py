"""`moescope place` against an independent numpy re-implementation of DeepSeek's EPLB
(github.com/deepseek-ai/EPLB eplb.py, written here from its description with numpy, sharing
no code with moescope) on a generated DeepSeek-V3-shaped llama-server log (58 layers, 256
experts, top-8): the same physical -> logical maps, the same balance before and after, the
exports read back in the shapes SGLang and TensorRT-LLM accept, and --current."""
import csv
import io
import itertools
import json
import os
import subprocess
import tempfile

import numpy as np
import yaml

from harness import BUILD, SOURCE, check, cli, cli_json, ingest
from reference import parse_llama_log

# ------------------------------------------------------------------ numpy EPLB


def pack(weight, packs):
    """Heaviest item first into the lightest pack that has room (ties: lower index)."""
    n = len(weight)
    per = n // packs
    if per == 1:
        return np.arange(n), np.zeros(n, dtype=np.int64)
    where, rank = np.full(n, -1), np.full(n, -1)
    load = np.zeros(packs, dtype=np.float32)
    items = np.zeros(packs, dtype=np.int64)
    for i in np.argsort(-weight, kind="stable"):
        room = np.flatnonzero(items < per)
        p = room[np.argmin(load[room])]
        where[i], rank[i] = p, items[p]
        load[p] = np.float32(load[p] + weight[i])
        items[p] += 1
    return where, rank


def replicate(weight, phy):
    cnt = np.ones(len(weight), dtype=np.int64)
    p2l = list(range(len(weight)))
    for _ in range(len(weight), phy):
        e = int(np.argmax(weight / cnt.astype(np.float32)))
        p2l.append(e)
        cnt[e] += 1
    return np.array(p2l), cnt


def eplb(w, slots, groups, nodes, gpus):
    """One layer; w float32. Returns (phy2log, replica count per expert)."""
    E = len(w)
    if groups % nodes:  # the published fallback: the global policy
        groups = nodes = 1
    gsize, per_node_e, per_node_p = E // groups, E // nodes, slots // nodes
    gpack, grank = pack(w.reshape(groups, gsize).sum(1, dtype=np.float32), nodes)
    # New expert order: node by node, groups in pack order.
    log_of = np.empty(E, dtype=np.int64)
    for g in range(groups):
        start = (gpack[g] * (groups // nodes) + grank[g]) * gsize
        log_of[start : start + gsize] = np.arange(g * gsize, (g + 1) * gsize)
    phy2log, count = np.empty(slots, dtype=np.int64), np.zeros(E, dtype=np.int64)
    for n in range(nodes):
        experts = log_of[n * per_node_e : (n + 1) * per_node_e]
        p2m, cnt = replicate(w[experts], per_node_p)
        per_replica = (w[experts] / cnt.astype(np.float32)).astype(np.float32)[p2m]
        gpu, rank = pack(per_replica, gpus // nodes)
        slot = gpu * (slots // gpus) + rank
        out = np.empty(per_node_p, dtype=np.int64)
        out[slot] = experts[p2m]
        phy2log[n * per_node_p : (n + 1) * per_node_p] = out
        count[experts] = cnt
    return phy2log, count


def balance(load, phy2log, gpus):
    cnt = np.bincount(phy2log, minlength=len(load))
    per = load[phy2log] / cnt[phy2log]
    g = per.reshape(gpus, -1).sum(1)
    return g.mean() / g.max(), g.max() / g.mean() - 1, g


# ------------------------------------------------------------------ the test


def generate(tmp):
    path = os.path.join(tmp, "deepseek.log")
    with open(path, "wb") as f:
        subprocess.run([os.path.join(BUILD, "gen_log"), "--shape", "deepseek", "--format", "csv", "--mb", "5"],
                       stdout=f, check=True, timeout=120)
    sels, _ = parse_llama_log(path)
    layers = sorted({l for l, _ in sels})
    E = 1 + max(max(ids) for _, ids in sels)
    hits = np.zeros((max(layers) + 1, E), dtype=np.int64)
    for l, ids in sels:
        np.add.at(hits[l], ids, 1)
    return path, layers, hits


def compare(log, layers, hits, gpus, slots, nodes, groups, policy="hierarchical"):
    args = ["place", log, "--gpus", str(gpus), "--slots", str(slots), "--nodes", str(nodes),
            "--groups", str(groups), "--policy", policy]
    doc = cli_json(*args)
    check([l["layer"] for l in doc["layers"]] == layers, "every recorded layer planned")
    E = hits.shape[1]
    after, before = [], []
    for entry in doc["layers"]:
        load = hits[entry["layer"]].astype(np.float64)
        g, n = (1, 1) if policy == "global" else (groups, nodes)
        want, cnt = eplb(load.astype(np.float32), slots, g, n, gpus)
        check(entry["phy2log"] == want.tolist(), "layer %d, %d GPUs: phy2log differs from the reference"
              % (entry["layer"], gpus))
        check(entry["replicas"] == cnt.tolist(), "layer %d: replica counts" % entry["layer"])
        b_after, i_after, g_after = balance(load, want, gpus)
        b_before, i_before, _ = balance(load, np.arange(E), gpus)
        check(np.allclose(entry["gpu_load"], g_after, rtol=1e-12), "layer %d: gpu_load" % entry["layer"])
        for key, val in (("balancedness_after", b_after), ("imbalance_after", i_after),
                         ("balancedness_before", b_before), ("imbalance_before", i_before)):
            check(abs(entry[key] - val) < 1e-12, "layer %d %s: %r vs %r" % (entry["layer"], key, entry[key], val))
        after.append(b_after)
        before.append(b_before)
    s = doc["summary"]["balancedness_after"]
    want = {"min": min(after), "p50": np.median(after), "p90": np.percentile(after, 90), "mean": np.mean(after)}
    check(all(abs(s[k] - want[k]) < 1e-12 for k in want), "summary: %r vs %r" % (s, want))
    check(np.mean(after) > np.mean(before), "the plan improves balance (%g -> %g)" % (np.mean(before), np.mean(after)))
    print("ok: %d GPUs, %d slots, %s: balancedness %.3f -> %.3f" % (gpus, slots, policy, np.mean(before), np.mean(after)))
    return doc


def check_exports(tmp, log, layers, hits, doc):
    smap, scount, trt = (os.path.join(tmp, n) for n in ("sglang.json", "count.json", "trt.yaml"))
    cli("place", log, "--gpus", "8", "--slots", "288", "--groups", "8", "--export-sglang", smap,
        "--export-sglang-count", scount, "--export-trtllm", trt)
    plans = {l["layer"]: l["phy2log"] for l in doc["layers"]}
    # SGLang: init_by_mapping(**data) takes exactly physical_to_logical_map, shape (layers, slots),
    # rows indexed by layer id.
    m = json.load(open(smap))
    check(list(m) == ["physical_to_logical_map"], "SGLang map keys: %r" % list(m))
    rows = np.array(m["physical_to_logical_map"])
    check(rows.shape == (max(layers) + 1, 288), "SGLang map shape %r" % (rows.shape,))
    for l in layers:
        check(rows[l].tolist() == plans[l], "SGLang map row %d is the plan" % l)
    # logical_count: (layers, experts), the recorded hits.
    c = json.load(open(scount))
    check(list(c) == ["logical_count"] and np.array_equal(np.array(c["logical_count"]), hits), "SGLang logical_count")
    # TensorRT-LLM MoeLoadBalancerConfig: num_slots, initial_global_assignments {layer: [slots]}.
    y = yaml.safe_load(open(trt))
    check(set(y) == {"num_slots", "initial_global_assignments", "layer_updates_per_iter"}, "TRT-LLM keys %r" % list(y))
    check(y["num_slots"] == 288 and y["layer_updates_per_iter"] == 0, "TRT-LLM num_slots")
    check(y["initial_global_assignments"] == plans, "TRT-LLM assignments are the plan")
    # CSV: one row per slot, the plan in long form.
    rows = list(csv.DictReader(io.StringIO(cli("place", log, "--gpus", "8", "--slots", "288", "--groups", "8",
                                               "--layer", str(layers[0]), "--csv").stdout)))
    check([int(r["expert"]) for r in rows] == plans[layers[0]], "CSV slots")
    check([int(r["gpu"]) for r in rows] == [s // 36 for s in range(288)], "CSV GPUs")
    # --current: the exported map evaluated on the same load gives the plan's balance; the
    # identity map gives the 'before' figures.
    cur = cli_json("place", log, "--gpus", "8", "--slots", "288", "--groups", "8", "--current", smap)
    for entry in cur["layers"]:
        check(entry["balancedness_current"] == entry["balancedness_after"], "--current = plan")
    ident = os.path.join(tmp, "identity.json")
    json.dump(list(range(256)), open(ident, "w"))
    cur = cli_json("place", log, "--gpus", "8", "--slots", "288", "--current", ident)
    for entry in cur["layers"]:
        check(entry["imbalance_current"] == entry["imbalance_before"], "--current identity = before")
    check("balancedness_current" in cur["summary"], "summary has the current placement")
    # A map that leaves an expert with load unplaced is refused with one line, exit 2.
    json.dump(list(range(255)) + [0], open(ident, "w"))
    p = cli("place", log, "--gpus", "8", "--current", ident, expect_rc=2)
    check("expert 255 has load but no slot" in p.stderr and p.stderr.count("\n") == 1, p.stderr)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log, layers, hits = generate(tmp)
        check(len(layers) == 58 and hits.shape[1] == 256, "DeepSeek-V3 shape")
        doc = compare(log, layers, hits, 8, 288, 1, 8)  # 32 redundant slots, 36 per GPU
        compare(log, layers, hits, 32, 288, 4, 8)  # DeepSeek's prefill setup: 4 nodes x 8 GPUs
        compare(log, layers, hits, 64, 320, 8, 8)  # 64 GPUs need a multiple of 64 slots
        compare(log, layers, hits, 64, 320, 8, 8, "global")
        compare(log, layers, hits, 64, 320, 16, 8)  # 16 nodes do not divide 8 groups: global
        # 64 GPUs with 32 redundant slots: 288 slots do not split evenly, one line, exit 2.
        p = cli("place", log, "--gpus", "64", "--slots", "288", expect_rc=2)
        check("not a multiple of --gpus 64" in p.stderr, p.stderr)
        check_exports(tmp, log, layers, hits, doc)
        # Text output with one layer shows its GPUs.
        text = cli("place", log, "--gpus", "8", "--slots", "288", "--layer", str(layers[0])).stdout
        check("per GPU" in text and "balancedness_after" in text, text)
    print("ok: place matches the numpy EPLB reference")


def check_mass_and_tags():
    """--by mass plans on the weight mass `experts` reports, --tag on that tag's hits."""
    nd = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples/ndjson/routing.ndjson")
    for tag, by, key in (("all", "mass", "weight_mass"), ("code", "hits", "hits")):
        doc = cli_json("place", nd, "--gpus", "4", "--slots", "20", "--by", by, "--tag", tag)
        check(doc["by"] == by and doc["tag"] == tag, "place reports --by and --tag")
        for entry in doc["layers"]:
            ex = cli_json("experts", nd, "--tag", tag, "--layer", str(entry["layer"]), "--top", "16")["layers"][0]["experts"]
            load = np.zeros(16)
            for e in ex:
                load[e["expert"]] = e[key] or 0
            want, _ = eplb(load.astype(np.float32), 20, 1, 1, 4)
            check(entry["phy2log"] == want.tolist(), "%s %s layer %d" % (tag, by, entry["layer"]))
            check(abs(sum(entry["gpu_load"]) - load.sum()) < 1e-9, "GPU loads add up to the layer's load")
    # Hits-only input: --by mass has nothing to plan on, exit 3.
    llama = os.path.join(os.path.dirname(nd), "..", "llama_server/moe_expert_selection.log")
    p = cli("place", llama, "--gpus", "2", "--by", "mass", expect_rc=3)
    check("no routing weights" in p.stderr, p.stderr)
    print("ok: --by mass and --tag")


def min_cover(experts, phy2log, gpus):
    """Fewest GPUs holding every expert of the token (any replica), by brute force."""
    per = len(phy2log) // gpus
    holds = [set(phy2log[g * per:(g + 1) * per]) for g in range(gpus)]
    for n in range(1, gpus + 1):
        for combo in itertools.combinations(range(gpus), n):
            if all(any(e in holds[g] for g in combo) for e in experts):
                return n
    return gpus


def check_fanout_and_by_tag():
    """Fan-out (the GPUs a token's top-k visits) before and after, per layer, against a
    brute-force cover on the Mixtral traces; --by-tag: the plan's balance on each tag."""
    files = sorted(os.path.join(SOURCE, "samples/realdata/mixtral", f)
                   for f in os.listdir(os.path.join(SOURCE, "samples/realdata/mixtral")))
    recs = []
    for path in files:
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                recs.append((d["dataset"], d["layer"], d["experts"]))
    gpus, slots = 4, 12  # 8 experts, 4 redundant slots: replicas make the cover non-trivial
    doc = cli_json("place", *files, "--gpus", str(gpus), "--slots", str(slots), "--by-tag")
    identity = list(range(8))
    by_layer = {}
    for r in recs:
        by_layer.setdefault(r[1], []).append(r[2])
    for entry in doc["layers"]:
        toks = by_layer[entry["layer"]]
        for key, placement, per_gpu in (("before", identity, 2), ("after", entry["phy2log"], 3)):
            n = [min_cover(t, placement, gpus) for t in toks]
            need = [-(-len(t) // per_gpu) for t in toks]
            mean = sum(n) / len(n)
            excess = sum(a > b for a, b in zip(n, need)) / len(n)
            check(abs(entry["fanout_gpus_" + key] - mean) < 1e-12,
                  "layer %d fan-out %s: %r != %r" % (entry["layer"], key, entry["fanout_gpus_" + key], mean))
            check(abs(entry["fanout_excess_" + key] - excess) < 1e-12, "layer %d excess %s" % (entry["layer"], key))
    check(doc["summary"]["fanout_gpus_after"]["mean"] is not None, "fan-out summarised")
    # --by-tag: the "all" plan on each dataset's own hits, with numpy balances.
    tags = {t["tag"]: t for t in doc["by_tag"]}
    check(set(tags) == {"gsm8k", "humaneval"}, "one entry per tag: %s" % sorted(tags))
    for tag, t in tags.items():
        bal = []
        for entry in doc["layers"]:
            load = np.zeros(8)
            for r in recs:
                if r[0] == tag and r[1] == entry["layer"]:
                    for e in r[2]:
                        load[e] += 1
            bal.append(balance(load, np.array(entry["phy2log"]), gpus)[0])
        check(abs(t["summary"]["balancedness_after"]["mean"] - np.mean(bal)) < 1e-9,
              "%s: plan balancedness on the tag %r != %r" % (tag, t["summary"]["balancedness_after"]["mean"], np.mean(bal)))
        check(abs(t["summary"]["balancedness_after"]["min"] - min(bal)) < 1e-9, "%s min" % tag)
    text = cli("place", *files, "--gpus", str(gpus), "--slots", str(slots), "--by-tag").stdout
    check("on each tag's load" in text and "humaneval" in text and "fanout_gpus_after" in text, text)
    # A database keeps no token sets: fan-out is null there, the rest is the same.
    with tempfile.TemporaryDirectory() as tmp:
        db = ingest(os.path.join(tmp, "m.db"), files, len(recs))
        dbdoc = cli_json("--db", db, "place", "--gpus", str(gpus), "--slots", str(slots))
        check(all(l["fanout_gpus_after"] is None for l in dbdoc["layers"]), "no fan-out on a database")
        check([l["phy2log"] for l in dbdoc["layers"]] == [l["phy2log"] for l in doc["layers"]], "same plan")
    print("ok: fan-out == brute-force cover; --by-tag balances == numpy")


if __name__ == "__main__":
    main()
    check_mass_and_tags()
    check_fanout_and_by_tag()
