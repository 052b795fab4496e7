"""`moescope weights`: router and expert similarity of small GGUF and safetensors models
written by model_writer.py, every figure compared with a numpy reference computed here from
the values as stored (F16/BF16 rounded, Q8_0 quantised)."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from harness import check, cli, cli_json, fail, ingest, report_data  # noqa: E402
import model_writer as mw  # noqa: E402

TOL = 2e-4
E, D, FF = 4, 64, 32
MOE_LAYERS = [1, 2, 3, 4, 5]  # layer 0 is dense: no router


def close(a, b, what):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    check(a.shape == b.shape, "%s: shape %s != %s" % (what, a.shape, b.shape))
    both_nan = np.isnan(a) & np.isnan(b)
    ok = both_nan | (np.abs(a - b) <= TOL)
    check(ok.all(), "%s: moescope %s, numpy %s" % (what, a[~ok][:5], b[~ok][:5]))


def make_weights(rng):
    """Routers with a period of 2 layers; expert 1 of layer 2 a near copy of expert 0."""
    base = [rng.normal(size=(E, D)) for _ in range(2)]
    routers = {l: base[l % 2] * (1 + 0.2 * l) + 0.3 * rng.normal(size=(E, D)) for l in MOE_LAYERS}
    experts = {}
    for l in MOE_LAYERS:
        g, u, d = rng.normal(size=(E, FF, D)), rng.normal(size=(E, FF, D)), rng.normal(size=(E, D, FF))
        if l > 1:  # expert e at l resembles expert e at l - 1
            pg, pu, pd = experts[l - 1]
            g, u, d = 0.6 * pg + g, 0.6 * pu + u, 0.6 * pd + d
        if l == 2:
            for m in (g, u, d):
                m[1] = m[0] + 0.05 * rng.normal(size=m[0].shape)
        experts[l] = (g, u, d)
    return routers, experts


# ---- numpy reference -------------------------------------------------------------------

def cos(a, b):
    d = np.linalg.norm(a) * np.linalg.norm(b)
    return float(np.dot(a.ravel(), b.ravel()) / d) if d > 0 else float("nan")


def router_reference(routers):
    L = len(MOE_LAYERS)
    c, rc, nc = np.zeros((L, L)), np.zeros((L, L)), np.zeros((L, L))
    for i, li in enumerate(MOE_LAYERS):
        for j, lj in enumerate(MOE_LAYERS):
            a, b = routers[li].astype(np.float64), routers[lj].astype(np.float64)
            c[i, j] = cos(a, b)
            rc[i, j] = np.mean([cos(a[e], b[e]) for e in range(E)])
            nc[i, j] = np.corrcoef(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))[0, 1]
    return c, rc, nc


def delta_reference(m, delta):
    vals = [m[i, j] for i, li in enumerate(MOE_LAYERS) for j, lj in enumerate(MOE_LAYERS)
            if lj - li == delta]
    return (float(np.mean(vals)) if vals else float("nan")), len(vals)


def flat(experts, l, e):
    return np.concatenate([m[e].astype(np.float64).ravel() for m in experts[l]])


def expert_reference(experts, top, deltas):
    pairs, per_layer = [], []
    for l in MOE_LAYERS:
        cs = [(cos(flat(experts, l, a), flat(experts, l, b)), l, a, b)
              for a in range(E) for b in range(a + 1, E)]
        pairs += cs
        per_layer.append((l, np.mean([c[0] for c in cs]), max(c[0] for c in cs)))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2], p[3]))
    cross = {}
    for d in deltas:
        vals = [cos(flat(experts, l, e), flat(experts, l + d, e))
                for l in MOE_LAYERS if l + d in MOE_LAYERS for e in range(E)]
        hist = np.zeros(20, dtype=int)
        for v in vals:
            hist[min(19, int((min(max(v, -1), 1) + 1) / 2 * 20))] += 1
        cross[d] = (len(vals), float(np.mean(vals)) if vals else None,
                    float(np.median(vals)) if vals else None, hist.tolist())
    return pairs[:top], per_layer, cross


def check_document(doc, routers, experts, what, top=10, periodic=(2, 4), delta_max=30):
    r = doc["router"]
    check(r["layers"] == MOE_LAYERS, "%s: router.layers %s" % (what, r["layers"]))
    c, rc, nc = router_reference(routers)
    close(r["cosine"], c, what + " router.cosine")
    close(r["row_cosine"], rc, what + " router.row_cosine")
    close(r["row_norm_correlation"], nc, what + " router.row_norm_correlation")
    want_deltas = [d for d in range(1, delta_max + 1) if delta_reference(c, d)[1] > 0]
    check([d["delta"] for d in r["by_delta"]] == want_deltas, what + " by_delta deltas")
    for d in r["by_delta"] + r["periodic"]:
        for key, m in (("cosine", c), ("row_cosine", rc), ("row_norm_correlation", nc)):
            mean, n = delta_reference(m, d["delta"])
            check(d["pairs"] == n, "%s: delta %d pairs" % (what, d["delta"]))
            close(d[key] if d[key] is not None else np.nan, mean, "%s delta %d %s" % (what, d["delta"], key))
    check([p["delta"] for p in r["periodic"]] == list(periodic), what + " periodic deltas")
    # The planted period of 2: delta 2 routes more alike than delta 1.
    by = {d["delta"]: d["cosine"] for d in r["by_delta"]}
    check(by[2] > by[1] + 0.2, "%s: no peak at delta 2: %s" % (what, by))

    ex = doc["experts"]
    pairs, per_layer, cross = expert_reference(experts, top, [1] + [p for p in periodic if p != 1])
    got = [(p["layer"], p["a"], p["b"]) for p in ex["similar_pairs"]]
    check(got == [(p[1], p[2], p[3]) for p in pairs], "%s: similar pairs %s != %s" % (what, got, pairs))
    close([p["cosine"] for p in ex["similar_pairs"]], [p[0] for p in pairs], what + " pair cosines")
    check(got[0] == (2, 0, 1) and ex["similar_pairs"][0]["cosine"] > 0.99, what + ": planted pair")
    close([[l["layer"], l["mean_cosine"], l["max_cosine"]] for l in ex["layers"]],
          [list(x) for x in per_layer], what + " per-layer expert cosine")
    for cl in ex["cross_layer"]:
        n, mean, median, hist = cross[cl["delta"]]
        check(cl["n"] == n and cl["histogram"] == hist,
              "%s: cross delta %d: %s vs %s" % (what, cl["delta"], (cl["n"], cl["histogram"]), (n, hist)))
        close([cl["mean"], cl["median"]], [mean, median], "%s cross delta %d" % (what, cl["delta"]))


def gguf_tensors(routers, experts, types=("F16", "BF16", "Q8_0")):
    ts = [("token_embd.weight", np.zeros((8, D), dtype=np.float32), "F32"),
          ("blk.0.ffn_gate.weight", np.ones((FF, D), dtype=np.float32), "F16")]
    for l in MOE_LAYERS:
        ts.append(("blk.%d.ffn_gate_inp.weight" % l, routers[l], "F32"))
        for name, m, t in zip(("gate", "up", "down"), experts[l], types):
            ts.append(("blk.%d.ffn_%s_exps.weight" % (l, name), m, t))
    return ts


def read_back(stored, routers, experts, name_of):
    """The values as stored in the file, for the reference."""
    r = {l: stored[name_of(l, "router")] for l in MOE_LAYERS}
    e = {l: tuple(stored[name_of(l, p)] for p in ("gate", "up", "down")) for l in MOE_LAYERS}
    return r, e


def main():
    with tempfile.TemporaryDirectory(prefix="moescope-weights-") as tmp:
        run(tmp)
    print("ok")


def run(tmp):
    rng = np.random.default_rng(7)
    routers, experts = make_weights(rng)

    # GGUF: routers F32, experts F16 / BF16 / Q8_0 (gate / up / down).
    path = os.path.join(tmp, "m.gguf")
    meta = {"general.architecture": "qwen3moe", "qwen3moe.block_count": 6,
            "qwen3moe.expert_count": E, "qwen3moe.expert_used_count": 2,
            "qwen3moe.embedding_length": D, "tokenizer.ggml.tokens": ["a", "b"]}
    stored = mw.write_gguf(path, meta, gguf_tensors(routers, experts))
    gname = lambda l, p: "blk.%d.ffn_%s.weight" % (l, "gate_inp" if p == "router" else p + "_exps")
    r_g, e_g = read_back(stored, routers, experts, gname)
    doc = cli_json("weights", path, "--periodic", "2,4")
    m = doc["model"]
    check((m["format"], m["architecture"], m["layers"], m["experts"], m["top_k"], m["n_embd"]) ==
          ("gguf", "qwen3moe", 6, E, 2, D), "gguf facts: %s" % m)
    check(m["file_bytes"] == os.path.getsize(path), "file_bytes")
    check_document(doc, r_g, e_g, "gguf")
    # Q8_0 really quantised: the stored down weights differ from the float ones.
    check(np.abs(e_g[1][2] - experts[1][2]).max() > 1e-4, "Q8_0 not quantised")
    # Every figure also in F32 GGUF at another alignment.
    path32 = os.path.join(tmp, "m32.gguf")
    s32 = mw.write_gguf(path32, meta, gguf_tensors(routers, experts, ("F32", "F32", "F32")), alignment=64)
    r32, e32 = read_back(s32, routers, experts, gname)
    check_document(cli_json("weights", path32, "--periodic", "2,4", "--top", "3"), r32, e32, "gguf f32", top=3)

    # safetensors, single file, Qwen naming, F32 routers + BF16 experts, config.json facts.
    st = os.path.join(tmp, "qwen")
    os.mkdir(st)
    hname = lambda l, p: ("model.layers.%d.mlp.gate.weight" % l if p == "router"
                          else "model.layers.%d.mlp.experts.%%d.%s_proj.weight" % (l, p))
    ts = [("model.embed_tokens.weight", np.zeros((8, D), dtype=np.float32), "F32")]
    for l in MOE_LAYERS:
        ts.append((hname(l, "router"), routers[l], "F32"))
        for p, mtx in zip(("gate", "up", "down"), experts[l]):
            ts += [(hname(l, p) % e, mtx[e], "BF16") for e in range(E)]
    s_st = mw.write_safetensors(os.path.join(st, "model.safetensors"), ts)
    with open(os.path.join(st, "config.json"), "w") as f:
        json.dump({"model_type": "qwen2_moe", "num_hidden_layers": 6, "num_experts": E,
                   "num_experts_per_tok": 2, "hidden_size": D}, f)
    r_s = {l: s_st[hname(l, "router")] for l in MOE_LAYERS}
    e_s = {l: tuple(np.stack([s_st[hname(l, p) % e] for e in range(E)]) for p in ("gate", "up", "down"))
           for l in MOE_LAYERS}
    doc = cli_json("weights", st, "--periodic", "2,4")
    check(doc["model"]["architecture"] == "qwen2_moe" and doc["model"]["top_k"] == 2, "config.json facts")
    check_document(doc, r_s, e_s, "safetensors")

    # Sharded Mixtral naming, F16, through model.safetensors.index.json.
    mx = os.path.join(tmp, "mixtral")
    os.mkdir(mx)
    w = {"gate": "w1", "up": "w3", "down": "w2"}
    mname = lambda l, p: ("model.layers.%d.block_sparse_moe.gate.weight" % l if p == "router"
                          else "model.layers.%d.block_sparse_moe.experts.%%d.%s.weight" % (l, w[p]))
    ts = []
    for l in MOE_LAYERS:
        ts.append((mname(l, "router"), routers[l], "F16"))
        for p, mtx in zip(("gate", "up", "down"), experts[l]):
            ts += [(mname(l, p) % e, mtx[e], "F16") for e in range(E)]
    s_mx = mw.write_sharded(mx, ts, 3)
    r_m = {l: s_mx[mname(l, "router")] for l in MOE_LAYERS}
    e_m = {l: tuple(np.stack([s_mx[mname(l, p) % e] for e in range(E)]) for p in ("gate", "up", "down"))
           for l in MOE_LAYERS}
    doc = cli_json("weights", os.path.join(mx, "model.safetensors.index.json"), "--periodic", "2,4")
    check(doc["model"]["experts"] == E and doc["model"]["n_embd"] == D, "facts from tensors")
    check_document(doc, r_m, e_m, "sharded")

    # --router / --experts select sections.
    only_r = cli_json("weights", path, "--router")
    check(only_r["experts"] is None and only_r["router"]["layers"] == MOE_LAYERS, "--router")
    only_e = cli_json("weights", path, "--experts")
    check(only_e["router"] is None and only_e["experts"]["similar_pairs"], "--experts")

    # CSV: one valid table; the router cosine rows match the JSON.
    rows = list(csv.DictReader(io.StringIO(cli("weights", path, "--csv").stdout)))
    rc = [r for r in rows if r["figure"] == "router_cosine"]
    check(len(rc) == len(MOE_LAYERS) ** 2, "csv router_cosine rows")
    c_ref = router_reference(r_g)[0]
    close([float(r["value"]) for r in rc], c_ref.ravel(), "csv router cosine")

    # Text: fits 80 columns and names the planted pair.
    text = cli("weights", path, "--matrix", "--periodic", "2,4").stdout
    long = [l for l in text.splitlines() if len(l) > 80]
    check(not long, "text lines over 80 columns: %s" % long)
    check("Most similar experts" in text and "Router cosine, layer x layer" in text, text)

    # --db: co-selection lift and shares from a routing database.
    log = os.path.join(tmp, "route.ndjson")
    recs, rng2 = [], np.random.default_rng(3)
    for t in range(400):
        for l in MOE_LAYERS:
            a = int(rng2.integers(0, 3))
            b = (a + 1 + int(rng2.integers(0, 2))) % 3  # experts 0..2, never 3
            if l == 2 and {a, b} == {0, 1}:
                b = 2  # the near-identical pair is never selected together
            recs.append({"layer": l, "experts": [a, b], "token": t})
    with open(log, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in recs))
    db = ingest(os.path.join(tmp, "r.db"), [log], len(recs))
    doc = cli_json("weights", path, "--experts", "--db", db)
    for p in doc["experts"]["similar_pairs"]:
        rl = [r["experts"] for r in recs if r["layer"] == p["layer"]]
        T = len(rl)
        h = np.bincount([e for r in rl for e in r], minlength=E)
        C = sum(1 for r in rl if p["a"] in r and p["b"] in r)
        check(p["count"] == C, "pair count %s" % p)
        close([p["share_a"], p["share_b"]], [h[p["a"]] / h.sum(), h[p["b"]] / h.sum()], "shares")
        lift = C * T / (h[p["a"]] * h[p["b"]]) if h[p["a"]] and h[p["b"]] else np.nan
        close(p["lift"] if p["lift"] is not None else np.nan, lift, "lift %s" % p)
    top = doc["experts"]["similar_pairs"][0]
    check((top["layer"], top["a"], top["b"], top["count"]) == (2, 0, 1, 0), "planted pair never together")
    text = cli("weights", path, "--experts", "--db", db).stdout
    check("never together" in text, text)

    # report --model: the page embeds the same weights document.
    page = os.path.join(tmp, "r.html")
    cli("report", "--html", page, "--model", path, log)
    html = open(page).read()
    data = report_data(page)
    ref = cli_json("weights", path)
    check(data["weights"]["router"] == ref["router"], "report router section")
    check(data["weights"]["experts"]["similar_pairs"] == ref["experts"]["similar_pairs"], "report merge candidates")
    check('id="weights"' in html, "report has the weights section")
    if shutil.which("chromium"):  # the script draws the section (test_report_browser.py: the rest)
        dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                              "--user-data-dir=" + os.path.join(tmp, "chromium"), "--virtual-time-budget=5000",
                              "--dump-dom", "file://" + page], capture_output=True, text=True, timeout=120).stdout
        for part in ('id="router-map"', 'id="merge-candidates"', "Delta profile"):
            check(part in dom, "rendered report lacks " + part)

    # Errors: unsupported expert type, truncation, not a MoE model, bad arguments.
    q4 = os.path.join(tmp, "q4.gguf")
    data = open(path, "rb").read()
    # Gate experts in Q4_1 (a type the converter does not support; bytes are irrelevant).
    mw.GGUF_TYPES["Q4_1"] = 3
    mw_encode = mw.encode

    def encode(a, t):
        if t == "Q4_1":  # 20 bytes per block of 32; content irrelevant
            return b"\0" * (a.size // 32 * 20), a
        return mw_encode(a, t)
    mw.encode = encode
    mw.write_gguf(q4, meta, gguf_tensors(routers, experts, ("Q4_1", "F16", "F16")))
    mw.encode = mw_encode
    doc = cli_json("weights", q4)
    check(doc["experts"] is None and "Q4_1 not supported" in doc["experts_skipped"], "skipped: %s" % doc.get("experts_skipped"))
    close(doc["router"]["cosine"], router_reference(r_g)[0], "router on a quantised model")
    p = cli("weights", q4, "--experts", expect_rc=1)
    check("tensor type Q4_1 not supported" in p.stderr and p.stderr.count("\n") == 1, p.stderr)
    trunc = os.path.join(tmp, "trunc.gguf")
    open(trunc, "wb").write(data[: len(data) - 100])
    p = cli("weights", trunc, expect_rc=1)
    check("runs past the end of the file" in p.stderr, p.stderr)
    dense = os.path.join(tmp, "dense.safetensors")
    mw.write_safetensors(dense, [("model.layers.0.mlp.gate_proj.weight", np.ones((4, 4)), "F32")])
    p = cli("weights", dense, expect_rc=1)
    check("no MoE router tensors" in p.stderr, p.stderr)
    cli("weights", path, "--delta-max", "0", expect_rc=2)
    cli("weights", os.path.join(tmp, "missing.gguf"), expect_rc=2)


if __name__ == "__main__":
    main()
