#!/usr/bin/env python3
"""Text output fits 100 columns (issue 31): every command that `moescope --help` lists is run
on the bundled samples (and small generated inputs where it needs more: timed records, two
runs, a model file, databases) at COLUMNS=100, and every line of its text output is at most
100 characters. A command this test does not know how to run fails it: add its arguments
to args_by_command. Only stdout is measured: an error is one stderr line whatever its length (the exit
code contract of docs/COMMANDS.md "Options and exit codes")."""
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

from harness import MOESCOPE, SOURCE, check, cli
import model_writer as mw

ENV = dict(os.environ, COLUMNS="100")
LLAMA = os.path.join(SOURCE, "samples", "llama_server", "moe_expert_selection.log")
NDJSON = os.path.join(SOURCE, "samples", "ndjson", "routing.ndjson")
ROUTED = os.path.join(SOURCE, "samples", "recorders", "routed", "routed_experts.ndjson")
GSM = os.path.join(SOURCE, "samples", "realdata", "mixtral", "gsm8k_2_routing.jsonl")
HUMANEVAL = os.path.join(SOURCE, "samples", "realdata", "mixtral", "humaneval_2_routing.jsonl")
SGLANG = os.path.join(SOURCE, "samples", "realdata", "sglang", "deepseek_v3_prefill_in512.json")


def timed_log(path):
    """Two tags over an hour of timestamps, for drift."""
    rnd = random.Random(5)
    with open(path, "w") as f:
        for t in range(600):
            for l in range(4):
                tag = "base" if t < 300 else "new"
                ids = rnd.sample(range(16), 2) if tag == "base" else [0, rnd.randrange(1, 16)]
                f.write(json.dumps({"layer": l, "experts": ids, "tag": tag, "ts": 1_700_000_000 + 6 * t}) + "\n")


def model(path):
    """A tiny GGUF MoE model: 3 MoE layers of 8 experts."""
    rng = np.random.default_rng(3)
    E, D, FF = 8, 16, 8
    ts = [("token_embd.weight", np.zeros((4, D), dtype=np.float32), "F32")]
    for l in range(3):
        ts.append(("blk.%d.ffn_gate_inp.weight" % l, rng.normal(size=(E, D)), "F32"))
        for name, shape in (("gate", (E, FF, D)), ("up", (E, FF, D)), ("down", (E, D, FF))):
            ts.append(("blk.%d.ffn_%s_exps.weight" % (l, name), rng.normal(size=shape), "F32"))
    meta = {"general.architecture": "qwen3moe", "qwen3moe.block_count": 3, "qwen3moe.expert_count": E,
            "qwen3moe.expert_used_count": 2, "qwen3moe.embedding_length": D}
    mw.write_gguf(path, meta, ts)


def args_by_command(tmp):
    timed = os.path.join(tmp, "timed.ndjson")
    timed_log(timed)
    gguf = os.path.join(tmp, "m.gguf")
    model(gguf)
    a_db, b_db, c_db = (os.path.join(tmp, n + ".db") for n in "abc")
    cli("import", NDJSON, "--db", a_db)
    cli("import", SGLANG, "--db", b_db)
    more = os.path.join(tmp, "more.ndjson")  # the same model as NDJSON's, another node
    open(more, "w").write("".join(json.dumps({"layer": l, "experts": [l, 15 - l], "tag": "node2"}) + "\n"
                                  for l in range(4)))
    cli("import", more, "--db", c_db)
    # Hostile input (found by a review: reject samples and the warm-up warning ran to 186
    # and 177 columns): a long line of invalid UTF-8 JSON and warm-up runs.
    messy = os.path.join(tmp, "messy_warmup_and_junk.ndjson")
    with open(messy, "wb") as f:
        f.write(b'{"layer": 0, "experts": [1, 2], "tag": "gsm\xff\xfe8k", "note": "' + b"x" * 300 + b'"\n')
        for _ in range(300):  # one warm-up run per layer
            for l in range(4):
                f.write((json.dumps({"layer": l, "experts": [3, 4]}) + "\n").encode())
        f.write(b"not json at all, and long: " + b"y" * 200 + b"\n")
    return {
        "analyze": [[GSM, HUMANEVAL], [LLAMA], [SGLANG], [messy]],
        "compare": [[GSM, HUMANEVAL], [NDJSON, "--tag", "code"]],
        "drift": [[timed, "--baseline", "base", "--tag", "new", "--window", "10m"]],
        "kde": [[GSM, HUMANEVAL, "--fit", "gsm8k", "--test", "humaneval"]],
        "coverage": [[LLAMA], [GSM, HUMANEVAL]],
        "prune": [[LLAMA, "--keep-coverage", "0.9"], [GSM, HUMANEVAL, "--keep", "4", "--tag", "gsm8k"]],
        "cache": [[LLAMA, "--capacity", "4,8"]],
        "place": [[LLAMA, "--gpus", "4"], [GSM, "--gpus", "4", "--by-tag"]],
        "diff": [[ROUTED, ROUTED], [LLAMA, LLAMA]],
        "requests": [[ROUTED]],
        "positions": [[ROUTED]],
        "affinity": [[ROUTED]],
        "report": [["--html", os.path.join(tmp, "r.html"), LLAMA]],
        "weights": [[gguf]],
        "merge": [[a_db, c_db, "--out", os.path.join(tmp, "m.db"), "--force"]],
        "import": [[LLAMA, "--db", os.path.join(tmp, "i.db")], [GSM, "--db", os.path.join(tmp, "j.db")]],
        "sources": [[LLAMA], ["--db", a_db], ["--db", b_db]],
        "tags": [[GSM, HUMANEVAL], ["--db", b_db]],
        "formats": [[]],
        "matrix": [[LLAMA], [NDJSON]],
    }


def commands():
    out = subprocess.run([MOESCOPE, "--help"], capture_output=True, text=True, timeout=60, env=ENV).stdout
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip().upper().startswith("SUBCOMMANDS"))
    return [l.split()[0] for l in lines[start + 1:] if l.startswith("  ") and not l.startswith("   ")]


def main():
    with tempfile.TemporaryDirectory(prefix="mw-") as tmp:
        known = args_by_command(tmp)
        runs, over = 0, []
        for name in commands():
            for args in known.get(name, [[LLAMA], [NDJSON], [SGLANG]]):
                # --db goes before the command (the main app's option), except for import.
                pre = args[:2] if args[:1] == ["--db"] and name != "import" else []
                rest = args[2:] if pre else args
                p = subprocess.run([MOESCOPE, *pre, name, *rest], capture_output=True, text=True, timeout=300,
                                   env=ENV)
                # 3: nothing to show for this input (count-only data for a per-token command).
                check(p.returncode in (0, 3), "moescope %s %s: exit %d: %s" % (name, " ".join(args), p.returncode,
                                                                               p.stderr))
                wide = [l for l in p.stdout.splitlines() if len(l) > 100]
                if wide:
                    over.append("moescope %s %s: %d lines over 100 columns, e.g. (%d) %r"
                                % (name, " ".join(args), len(wide), len(wide[0]), wide[0]))
                runs += 1
        check(not over, "\n".join(over))
    print("ok: %d runs of every command within 100 columns" % runs)


if __name__ == "__main__":
    main()
