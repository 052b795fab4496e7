#!/usr/bin/env python3
"""bench/gen_log, the benchmark's input generator: a bad argument gets a one-line message and
exit 2 without writing a log (a lone or unknown flag used to be ignored and 100 MB written);
--help prints the usage; the output is deterministic per seed."""
import os
import subprocess

from harness import BUILD, check

GEN = os.path.join(BUILD, "gen_log")


def run(*args):
    return subprocess.run([GEN, *args], capture_output=True, timeout=60)


def main():
    for bad in (["--mb"], ["--shape", "llama"], ["--format", "xml"], ["--mb", "abc"],
                ["--mb", "-1"], ["--bogus", "1"], ["--seed", "x1"]):
        p = run(*bad)
        err = p.stderr.decode().strip()
        check(p.returncode == 2, "%r: exit %d" % (bad, p.returncode))
        check(p.stdout == b"", "%r: wrote %d bytes of log" % (bad, len(p.stdout)))
        check(err.startswith("gen_log: ") and "\n" not in err, "%r: one-line message %r" % (bad, err))
    h = run("--help")
    check(h.returncode == 0 and b"--shape" in h.stdout and len(h.stdout) < 2000, "usage: %r" % h.stdout[:200])
    a, b, c = run("--mb", "0.05", "--seed", "3"), run("--mb", "0.05", "--seed", "3"), run("--mb", "0.05", "--seed", "4")
    check(a.returncode == 0 and a.stdout == b.stdout and a.stdout != c.stdout, "deterministic per seed")
    lines = a.stdout.decode().splitlines()
    check(lines[0] == "layer_id,expert_ids" and len(lines) > 100, "a CSV log: %r" % lines[:2])
    layer, ids = lines[1].split(",")
    check(len(ids.split()) == 8 and 0 <= int(layer) < 48, "a Qwen3-shaped line: %r" % lines[1])
    print("ok")


if __name__ == "__main__":
    main()
