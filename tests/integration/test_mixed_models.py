#!/usr/bin/env python3
"""FILE arguments of two models are not mixed (docs/INPUTS.md "Bad input"). Found by a
review: `summary vllm_warmup.ndjson.gz llama_strided.log` (60 experts top-4, 64 experts
top-8) exited 0 with "8 layers x 64 experts, top-8", phantom dead experts L0/E60-63 and
7,704 topk_changed rejects. As the daemon and `import` do, a file whose first record
contradicts the files before it is refused as a whole: one other_model reject naming both,
a warning line naming the file, the figures those of the first model alone."""
import os
import subprocess

from harness import MOESCOPE, SOURCE, check, cli_json

Q = os.path.join(SOURCE, "samples", "quality")
VLLM, LLAMA = os.path.join(Q, "vllm_warmup.ndjson.gz"), os.path.join(Q, "llama_strided.log")


def main():
    for first, second, k_first in ((VLLM, LLAMA, 4), (LLAMA, VLLM, 8)):
        alone = cli_json("summary", first)["summary"]
        both = cli_json("summary", first, second)
        s = both["summary"]
        check((s["layers"], s["num_experts"], s["top_k"], s["tokens"]) ==
              (alone["layers"], alone["num_experts"], alone["top_k"], alone["tokens"]),
              "the first model's figures alone: %r vs %r" % (s, alone))
        src = {x["source"]: x for x in cli_json("sources", first, second)["sources"]}
        refused = src[second]
        check(refused["records"] == 0 and set(refused["rejects"]) == {"other_model"}
              and refused["rejects"]["other_model"]["count"] == 1, "one other_model reject: %r" % refused["rejects"])
        sample = refused["rejects"]["other_model"]["samples"][0]
        check("the model of the files before it has top-k %d" % k_first in sample and "analyze it apart" in sample, sample)
        p = subprocess.run([MOESCOPE, "summary", first, second], capture_output=True, text=True)
        check(p.returncode == 0 and second + ": not counted, stream refused" in p.stderr, p.stderr)
        text = " ".join(p.stdout.split())
        check("not counted, another model: " + second in text, p.stdout)
    print("ok: a file of another model is refused as a whole and named; the first model's figures stand")


if __name__ == "__main__":
    main()
