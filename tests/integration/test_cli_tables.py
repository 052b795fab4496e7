#!/usr/bin/env python3
"""Issue 12, the rest: analyze --csv as one tidy (layer, expert) table, compare against the
rest of a tag, the short last layer explained in `layers` and `layers --brief`, option
errors that name the option and the accepted range, errors that name the file, and every
command's text within 100 columns and CSV importable by pandas on the real Mixtral logs."""
import csv
import io
import json
import os
import re
import subprocess
import tempfile

import numpy as np
import pandas as pd

from harness import MOESCOPE, check, cli, cli_json

REAL = "/work/shared/realdata/mixtral"
TAGGED = [os.path.join(REAL, "gsm8k_2_routing.jsonl") + "=gsm8k",
          os.path.join(REAL, "humaneval_2_routing.jsonl") + "=humaneval"]


def stderr_of(rc, *args):
    p = subprocess.run([MOESCOPE, *args], capture_output=True, text=True, timeout=120)
    check(p.returncode == rc, "moescope %s: wanted exit %d, got %d: %s" % (args, rc, p.returncode, p.stderr))
    return p.stderr.strip()


def write_log(path, tokens, layers=4, experts=8, tag=None, short_every=1, seed=0):
    """Records of `layers` layers; the last layer only for every `short_every`-th token."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for t in range(tokens):
            for l in range(layers):
                if l == layers - 1 and t % short_every:
                    continue
                pick = rng.choice(experts, size=2, replace=False, p=None if l % 2 else
                                  np.arange(1, experts + 1) / (experts * (experts + 1) / 2))
                rec = {"layer": l, "experts": [int(e) for e in pick]}
                if tag:
                    rec["tag"] = tag
                f.write(json.dumps(rec) + "\n")


def hits_of(files, tag):
    """layer -> hit vector, from the matrix export."""
    m = pd.read_csv(io.StringIO(cli("matrix", *files, "--tag", tag, "--csv").stdout))
    return {int(l): g.sort_values("expert")["hits"].to_numpy(float) for l, g in m.groupby("layer")}


def js_bits(p, q):
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    term = lambda a: np.sum(a[a > 0] * np.log2(a[a > 0] / m[a > 0]))
    return 0.5 * term(p) + 0.5 * term(q)


def analyze_csv(log):
    doc = pd.read_csv(io.StringIO(cli("analyze", log, "--csv").stdout))
    layers = pd.read_csv(io.StringIO(cli("layers", log, "--csv").stdout))
    check(list(doc.columns[:9]) == ["tag", "layer", "scope", "expert", "hits", "share", "ema",
                                    "ema_corrected", "weight_mass"], "analyze CSV columns: %s" % list(doc.columns))
    check(len(doc) == (4 + 1) * 8, "a row per (layer, expert) plus all layers: %d" % len(doc))
    for _, lay in layers.iterrows():
        rows = doc[(doc["scope"] == "global") if lay["scope"] == "global" else (doc["layer"] == lay["layer"])]
        check(list(rows["expert"]) == list(range(8)), "experts in id order for layer %s" % lay["layer"])
        check(rows["hits"].sum() == lay["selections"], "hits add up to the layer's selections")
        check(np.allclose(rows["share"], rows["hits"] / lay["selections"], atol=1e-6), "share = hits / S")
        check((rows["gini"] == lay["gini"]).all() and (rows["tokens"] == lay["tokens"]).all(),
              "the layer's figures repeated on its rows")
    one = pd.read_csv(io.StringIO(cli("analyze", log, "--csv", "--layer", "2").stdout))
    check(set(one["layer"]) == {2} and len(one) == 8, "--layer keeps one layer's rows")


def compare_rest(tmp):
    files = []
    for i, tag in enumerate(("code", "math", "chat")):
        path = os.path.join(tmp, tag + ".log")
        write_log(path, 150 + 50 * i, tag=tag, seed=i + 1)
        files.append(path)
    doc = cli_json("compare", *files, "--tag", "code", "--top", "100")["compare"]
    check(all(c["tag_b"] == "rest" and c["b_is_rest"] and c["tag_a"] == "code" for c in doc), "JSON says rest")
    code, every = hits_of(files, "code"), hits_of(files, "all")
    tokens = {int(r["layer"]): int(r["tokens"]) for r in csv.DictReader(io.StringIO(cli(
        "layers", *files, "--csv").stdout)) if r["scope"] == "layer"}
    code_tokens = {int(r["layer"]): int(r["tokens"]) for r in csv.DictReader(io.StringIO(cli(
        "layers", *files, "--tag", "code", "--csv").stdout)) if r["scope"] == "layer"}
    for c in doc:
        if c["layer"] is None:
            continue
        l = c["layer"]
        rest = every[l] - code[l]
        check(c["tokens_b"] == tokens[l] - code_tokens[l], "rest tokens = all - code at layer %d" % l)
        check(abs(c["js_divergence_bits"] - js_bits(code[l], rest)) < 1e-9, "JS against the rest, layer %d" % l)
        e0 = next(e for e in c["experts"] if e["expert"] == 0)
        check(abs(e0["share_b"] - rest[0] / rest.sum()) < 1e-12, "rest share of expert 0")
    text = cli("compare", *files, "--tag", "code").stdout
    check(text.startswith("verdict: 'code' vs the rest ") and text.splitlines()[1].startswith("Tag 'code' vs the rest"),
          "verdict, then a header that says the rest: " + "\n".join(text.splitlines()[:2]))
    pair = cli_json("compare", *files, "--tag", "code", "--vs", "math")["compare"]
    check(all(c["tag_b"] == "math" and not c["b_is_rest"] for c in pair), "--vs keeps an explicit pair")
    check("--vs" in stderr_of(2, "compare", *files, "--tag", "code", "--vs", "code"), "same tag twice")
    check("no rest" in stderr_of(3, "compare", files[0], "--tag", "code"), "a lone tag has no rest")
    check("vs the rest" in cli("analyze", *files, "--tag", "math").stdout, "analyze --tag compares with the rest")


def short_last_layer(tmp):
    short = os.path.join(tmp, "short.log")
    write_log(short, 200, short_every=5)  # layer 3: 40 tokens, the median 200
    text = cli("layers", short).stdout.splitlines()
    notes = [i for i, l in enumerate(text) if l.startswith("  Note: ")]
    check(len(notes) == 1 and text[notes[0] - 1].startswith("  Tokens: 40 "), "one note under layer 3's tokens")
    check(text[notes[0] - 2] == "Layer 3:" and "llama-server" in text[notes[0]], "the note explains")
    check(max(len(l) for l in text) <= 100, "the note fits 100 columns")
    brief = cli("layers", short, "--brief").stdout.splitlines()
    check(any(l.split()[:1] == ["3*"] for l in brief), "layer 3 marked in --brief:\n" + "\n".join(brief))
    check(any(l.startswith("* layer 3 has 40 tokens") for l in brief), "footnote under --brief")
    check(max(len(l) for l in brief) <= 100, "--brief with footnote fits 100 columns")
    check("llama-server" in cli("summary", short).stdout, "the summary warns with the same rule")
    # 120 of 200 (60 % of the median): not short, no note.
    fine = os.path.join(tmp, "fine.log")
    write_log(fine, 200, short_every=1)
    with open(fine) as f:
        lines = [l for i, l in enumerate(f) if json.loads(l)["layer"] != 3 or i < 4 * 120]
    with open(fine, "w") as f:
        f.writelines(lines)
    check("Note:" not in cli("layers", fine).stdout and "*" not in cli("layers", fine, "--brief").stdout,
          "a last layer at 60 % of the median is not flagged")


def messages(tmp):
    log = os.path.join(tmp, "m.log")
    write_log(log, 20)
    msg = stderr_of(2, "layers", "--layer", "abc", log)
    check("--layer: 'abc' is not an integer from 0 to" in msg, msg)
    msg = stderr_of(2, "analyze", "--ema-decay", "2", log)
    check("--ema-decay: '2' is not a number from 0 to 1" in msg, msg)
    msg = stderr_of(2, "experts", "--top", "-1", log)
    check("--top" in msg and "not an integer" in msg, msg)
    missing = os.path.join(tmp, "nope", "missing.log")
    check(missing in stderr_of(1, "layers", missing), "a missing FILE is named")
    check("missing.db" in stderr_of(1, "--db", os.path.join(tmp, "missing.db"), "layers"), "a missing db is named")


def list_wrapping():
    """summary's hot list on the vLLM sample fills more than a line: it wraps between items,
    never inside one ("L1/E8" at the end of a line, "(2.58x)" at the start of the next)."""
    sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "quality",
                          "vllm_warmup.ndjson.gz")
    text = cli("summary", sample).stdout
    hot = [l for l in text.splitlines() if l.startswith("hot")]
    check(hot and text.splitlines().index(hot[0]) + 1 < len(text.splitlines()), "hot list present")
    split = [l for l in text.splitlines() if l.startswith(" ") and l.strip().startswith("(")]
    check(not split, "summary wraps a list item: %r\n%s" % (split[:3], text))


def cold_loads_below_heading():
    """summary's cold list prints loads below its "<0.1x" heading (a review found L1/E26 of
    the strided sample, 0.0995x, printed as "0.10x")."""
    sample = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "quality",
                          "llama_strided.log")
    text = cli("summary", sample).stdout
    lines = text.splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith("cold (<0.1x)"))
    block = [lines[i]]
    for l in lines[i + 1:]:
        if not l.startswith(" " * 16):
            break
        block.append(l)
    loads = [float(x) for x in re.findall(r"\(([0-9.]+)x\)", " ".join(block))]
    check(loads and all(x < 0.1 for x in loads), "cold loads %r in %r" % (loads, lines[i]))


def real_logs():
    """What a person sees at 100 columns, and what a spreadsheet imports, per command."""
    commands = [["analyze"], ["summary"], ["layers"], ["layers", "--brief"], ["experts", "--layer", "3"],
                ["gates"], ["cooc", "--layer", "1"], ["corr"], ["compare", "--tag", "gsm8k"], ["compare"],
                ["matrix"], ["coverage"], ["tags"]]
    for cmd in commands:
        text = cli(*cmd, *TAGGED).stdout
        wide = [l for l in text.splitlines() if len(l) > 100]
        check(not wide, "%s fits 100 columns: %r" % (cmd, wide[:3]))
        if cmd in (["summary"], ["layers", "--brief"], ["tags"]):
            continue
        out = cli(*cmd, *TAGGED, "--csv").stdout
        rows = list(csv.reader(io.StringIO(out)))
        # The Mixtral logs carry no gate vectors: gates prints its header only.
        check(len(rows) > (0 if cmd == ["gates"] else 1) and len({len(r) for r in rows}) == 1,
              "%s CSV: rows of one width" % cmd)
        df = pd.read_csv(io.StringIO(out))
        if df.empty:
            continue
        # `layer` is numeric (the all-layers row: empty layer, scope "global"), so it sorts 0, 1, 2, 10.
        text_cols = {"tag", "scope", "tag_a", "tag_b", "source", "metric", "name", "verdict"}
        if "layer" in df.columns:
            check(set(df["scope"]) <= {"layer", "global"} and
                  df.loc[df["scope"] == "global", "layer"].isna().all() and
                  (df.loc[df["scope"] == "layer", "layer"] % 1 == 0).all(), "%s CSV: layer and scope" % cmd)
        bad = [c for c in df.columns if c not in text_cols and not pd.api.types.is_numeric_dtype(df[c])]
        check(not bad, "%s CSV: numeric columns parse as numbers: %s" % (cmd, bad))
        tag = "tag_a" if cmd[0] == "compare" else "tag"
        check(df[tag].notna().all() and (df["layer"].notna() | (df["scope"] == "global")).all(),
              "%s CSV: tag and layer (or scope global) on every row" % cmd)


def csv_cells_typed():
    """Every command's CSV on real logs, the Mixtral traces and SGLang's engine totals: no
    text-table placeholders or percent strings (a review found prune writing "9.61%" and
    "'-", sources "'-"), numeric columns read as numbers by pandas."""
    sglang = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples",
                          "realdata", "sglang", "deepseek_v3_prefill_in512.json")
    runs = [(cmd, TAGGED) for cmd in (["prune", "--keep-coverage", "0.9"], ["sources"], ["coverage"],
                                      ["positions"], ["requests"], ["experts"], ["layers"],
                                      ["place", "--gpus", "4"], ["cache", "--capacity", "4"])]
    runs += [(cmd, [sglang]) for cmd in (["prune", "--keep-coverage", "0.9"], ["sources"], ["layers"],
                                         ["coverage"], ["place", "--gpus", "8"])]
    text_cols = {"source", "tag", "scope", "kind", "group", "top_experts", "last_seen", "active",
                 "verdict", "policy", "tag_a", "tag_b", "rule", "by"}
    for cmd, files in runs:
        out = cli(*cmd, *files, "--csv").stdout
        rows = list(csv.reader(io.StringIO(out)))
        check(len(rows) > 1 and len({len(r) for r in rows}) == 1, "%s CSV: rows of one width" % cmd)
        bad = [c for r in rows[1:] for c in r if c in ("-", "'-") or (c.endswith("%") and c[:-1].replace(".", "").isdigit())]
        check(not bad, "%s on %s CSV: text placeholders or percents %r" % (cmd, files[0], bad[:5]))
        df = pd.read_csv(io.StringIO(out))
        wrong = [c for c in df.columns if c not in text_cols and not df[c].isna().all()
                 and not pd.api.types.is_numeric_dtype(df[c])]
        check(not wrong, "%s on %s CSV: non-numeric columns %r" % (cmd, files[0], wrong))


def decimal_points(lines):
    return {tuple(i for i, ch in enumerate(l) if ch == ".") for l in lines if l.strip()}


def aligned():
    """Decimal points line up down each column of the tables people compare by eye."""
    cooc = cli("cooc", "--layer", "1", *TAGGED).stdout.splitlines()[2:]
    check(len(decimal_points(cooc)) == 1, "cooc decimals aligned:\n" + "\n".join(cooc))
    ex = cli("experts", "--layer", "3", *TAGGED).stdout.splitlines()
    rows = ex[ex.index(next(l for l in ex if l.startswith("rank"))) + 1:]
    check(len(decimal_points(rows)) == 1, "experts decimals aligned:\n" + "\n".join(rows))
    cmp = cli("compare", "--tag", "gsm8k", "--layer", "5", *TAGGED).stdout.splitlines()
    rows = cmp[cmp.index(next(l for l in cmp if l.strip().startswith("expert  share_a"))) + 1:]
    check(len(decimal_points(rows)) == 1, "compare decimals aligned:\n" + "\n".join(rows))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "a.log")
        write_log(log, 300)
        analyze_csv(log)
        compare_rest(tmp)
        short_last_layer(tmp)
        messages(tmp)
    real_logs()
    csv_cells_typed()
    cold_loads_below_heading()
    list_wrapping()
    aligned()
    print("ok: analyze CSV, compare vs rest, short last layer, option messages, 100 columns, CSV import")


if __name__ == "__main__":
    main()
