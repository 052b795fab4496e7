"""moescoped --placement FILE: the watched placement's balance per layer as Prometheus gauges
equals `moescope place` evaluating the same plan on the same hits, and the per-GPU load
counters equal its gpu_load (docs/FIGURES.md "Placement", live)."""
import json
import os
import re
import tempfile

from harness import Daemon, SOURCE, check, cli, cli_json, committed_records, free_port, scrape, wait_for

LLAMA = os.path.join(SOURCE, "samples/llama_server/moe_expert_selection.log")




def gauge(text, name, labels):
    m = re.search(r"^%s\{%s\} (\S+)$" % (name, re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def main():
    with tempfile.TemporaryDirectory() as tmp:
        plan_path = os.path.join(tmp, "plan.json")
        plan = cli_json("place", LLAMA, "--gpus", "4", "--slots", "40")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        db, port = os.path.join(tmp, "p.db"), free_port()
        with Daemon("--db", db, "--follow", LLAMA, "--flush-ms", "50", "--metrics", ":%d" % port,
                    "--placement", plan_path) as d:
            wait_for(lambda: committed_records(db) == 396, "sample ingested")
            text = wait_for(lambda: (lambda t: "moescope_placement_balancedness" in t and t)(scrape(port)),
                            "placement gauges")
            d.stop()
        for layer in plan["layers"]:
            labels = 'tag="all",layer="%d"' % layer["layer"]
            got = gauge(text, "moescope_placement_balancedness", labels)
            check(got is not None and abs(got - layer["balancedness_after"]) < 1e-12,
                  "layer %d balancedness %r, place says %r" % (layer["layer"], got, layer["balancedness_after"]))
            got = gauge(text, "moescope_placement_imbalance", labels)
            check(abs(got - layer["imbalance_after"]) < 1e-12, "layer %d imbalance" % layer["layer"])
            for g, load in enumerate(layer["gpu_load"]):
                got = gauge(text, "moescope_placement_gpu_load_total", labels + ',gpu="%d"' % g)
                check(got is not None and abs(got - load) < 1e-9, "layer %d GPU %d load" % (layer["layer"], g))
        # The same file evaluated by place --current on the database agrees.
        cur = cli_json("--db", db, "place", "--gpus", "4", "--current", plan_path)
        for a, b in zip(cur["layers"], plan["layers"]):
            check(abs(a["balancedness_current"] - b["balancedness_after"]) < 1e-12, "--current == plan")

        # A bare map has no GPU count: --placement-gpus is required; bad files are one line.
        bare = os.path.join(tmp, "bare.json")
        with open(bare, "w") as f:
            json.dump({"physical_to_logical_map": [l["phy2log"] for l in plan["layers"]]}, f)
        junk = os.path.join(tmp, "junk.json")
        with open(junk, "w") as f:
            f.write("{not json")
        for args, words in (([bare], "--placement-gpus"), ([junk], "not valid JSON"),
                            ([os.path.join(tmp, "missing.json")], "cannot read"),
                            ([bare, "--placement-gpus", "0"], "--placement-gpus")):
            dd = Daemon("--db", os.path.join(tmp, "x.db"), "--stdin", "--placement", *args)
            rc = dd.proc.wait(timeout=30)
            out = dd.output().strip()
            check(rc == 2 and words in out and out.count("\n") == 0, "%s: rc %d %r" % (args, rc, out))
    print("ok: --placement gauges == place on the same hits; GPU load counters; bad files refused")


if __name__ == "__main__":
    main()
