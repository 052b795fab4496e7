#!/usr/bin/env python3
"""Exactly-once for followed files: a writer appends a mixed log (llama-server CSV with gate
lines, eval-callback text, NDJSON with logits, a few bad lines) in uneven chunks while
moescoped is killed with SIGKILL at random moments and restarted, at least 20 times. The
final figures must equal `moescope analyze` of the complete file: no line counted twice,
none skipped, no gate pair lost across a restart."""
import json
import os
import random
import tempfile
import threading
import time

from harness import Daemon, check, cli_json, hits_by_layer, wait_for

CYCLES = 24


def make_log(rng, n_passes=600):
    lines = ["layer_id,expert_ids"]
    E, k = 16, 2
    for p in range(n_passes):
        kind = p % 3
        n_tok = rng.choice([1, 1, 1, 4])
        if kind == 0:  # llama-server CSV with gate inputs for layers 2 and 3
            for layer in range(5):
                if layer in (2, 3):
                    for t in range(n_tok):
                        lines.append("gate_input,%d,%d,%s" % (layer, t, " ".join("%g" % rng.gauss(0, 1) for _ in range(16))))
                for t in range(n_tok):
                    lines.append("%d,%s" % (layer, " ".join(map(str, rng.sample(range(E), k)))))
        elif kind == 1:  # eval-callback text: token lines depend on the last header
            for layer in range(5):
                lines.append("Layer %d - Selected Expert IDs (top-%d):" % (layer, k))
                for t in range(n_tok):
                    lines.append("  Token %d: [%s]" % (t, ", ".join(map(str, rng.sample(range(E), k)))))
        else:  # NDJSON with logits and weights
            for layer in range(5):
                lg = [round(rng.gauss(0, 1), 3) for _ in range(E)]
                top = sorted(range(E), key=lambda e: -lg[e])[:k]
                lines.append(json.dumps({"layer": layer, "experts": top, "weights": [0.6, 0.4], "logits": lg,
                                         "tag": rng.choice(["code", "math"])}))
        if p % 37 == 5:
            lines.append("3,1 1")  # duplicate expert: rejected, counted
        if p % 41 == 7:
            lines.append("srv  update_slots: id  0 | task 12 | kv cache rm [64, end)")
    return ("\n".join(lines) + "\n").encode()


def main():
    rng = random.Random(2026)
    data = make_log(rng)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "moe.log")
        db = os.path.join(tmp, "moe.db")
        open(log, "wb").close()
        done = threading.Event()

        def writer():
            wrng = random.Random(1)
            pos = 0
            while pos < len(data):
                n = wrng.randint(1, 3000)
                with open(log, "ab") as f:
                    f.write(data[pos:pos + n])
                pos += n
                time.sleep(wrng.uniform(0, 0.03))  # spread the writes over the kill cycles
            done.set()

        t = threading.Thread(target=writer)
        t.start()
        kills = 0
        while kills < CYCLES or not done.is_set():
            d = Daemon("--db", db, "--follow", log, "--flush-ms", str(rng.randint(10, 120)), "--poll-ms", "5")
            time.sleep(rng.uniform(0.02, 0.35))
            d.kill()  # SIGKILL at a random moment: mid-read, mid-flush, mid-commit
            kills += 1
        t.join()
        with Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "5") as d:
            wait_for(lambda: cli_json("--db", db, "sources")["sources"][0]["offset"] == len(data), "the daemon to catch up")
            d.stop()

        want = cli_json("analyze", log)
        src_w = want["sources"][0]
        src_g = cli_json("--db", db, "sources")["sources"][0]
        for k in ("records", "gate_records", "rejected", "lines"):
            check(src_g[k] == src_w[k], "%s: daemon %r, analyze %r" % (k, src_g[k], src_w[k]))
        for tag in ("all", "code", "math"):
            a = cli_json("analyze", log, "--tag", tag)
            g = cli_json("--db", db, "layers", "--tag", tag)
            check(hits_by_layer(g, tag) == hits_by_layer(a, tag), "tag %s: hits after %d kills" % (tag, kills))
            for la, lg in zip(a["layers"], g["layers"]):
                check(la["tokens"] == lg["tokens"], "tokens")
                ea = {e["expert"]: e["ema"] for e in la["experts"]}
                for e in lg["experts"]:
                    check(abs(e["ema"] - ea[e["expert"]]) <= 1e-12 + 1e-9 * ea[e["expert"]], "EMA after restarts")
        check(cli_json("--db", db, "cooc", "--top", "1000")["cooc"] == cli_json("analyze", log, "--top", "1000")["cooc"],
              "co-occurrence after restarts")
        gw = {(p["from_layer"], p["to_layer"]): p for p in want["gate_pairs"]}
        gg = {(p["from_layer"], p["to_layer"]): p for p in cli_json("--db", db, "gates")["gate_pairs"]}
        check(set(gw) == set(gg), "gate pair sets")
        for key in gw:
            check(gg[key]["count"] == gw[key]["count"], "gate pairs %s: %d vs %d" % (key, gg[key]["count"], gw[key]["count"]))
            check(abs(gg[key]["cosine_similarity"]["mean"] - gw[key]["cosine_similarity"]["mean"]) < 1e-9, "gate means")
        lw = cli_json("analyze", log)["logits"]
        lg_ = cli_json("--db", db, "logits")["logits"]
        check([x["histograms"] for x in lw] == [x["histograms"] for x in lg_], "logit histograms after restarts")
        print("ok: %d SIGKILL/restart cycles, %d records, figures == analyze" % (kills, src_w["records"]))


if __name__ == "__main__":
    main()
