#!/usr/bin/env python3
"""Followed files through everything logs go through: a file that does not exist yet,
rotation by rename with a new file (the writer still appending to the old one for a moment,
and leaving an unterminated last line), truncation, deletion and re-creation, a very long
line, and a file that stops growing (the daemon must go idle, not spin). After all of it,
the database equals `moescope analyze` over exactly the complete lines that were written."""
import os
import random
import resource
import tempfile
import time

from harness import Daemon, check, cli_json, hits_by_layer, wait_for


LAST = {}  # layer -> its last ids


def lines(rng, n, layers=4, experts=12, k=2):
    # A layer never repeats its last ids: the second record of an identical run waits to see
    # whether the run reaches 256 (docs/FIGURES.md "Data quality"), which a count would miss.
    out = []
    for _ in range(n):
        layer = rng.randrange(layers)
        ids = LAST.get(layer)
        while ids == LAST.get(layer):
            ids = rng.sample(range(experts), k)
        LAST[layer] = ids
        out.append("%d,%s\n" % (layer, " ".join(map(str, ids))))
    return "".join(out).encode()


def append(path, data):
    with open(path, "ab") as f:
        f.write(data)


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "moe.log")
        db = os.path.join(tmp, "moe.db")
        history = b""  # every complete line the daemon must count, in order

        def source():
            return cli_json("--db", db, "sources")["sources"][0]

        def records():
            try:
                return source()["records"]
            except Exception:
                return -1

        with Daemon("--db", db, "--follow", log, "--flush-ms", "50", "--poll-ms", "20") as d:
            # 1. The file does not exist yet.
            time.sleep(0.3)
            a = b"layer_id,expert_ids\n" + lines(rng, 300)
            append(log, a)
            history += a
            wait_for(lambda: records() == 300, "a file that appears later")

            # 2. Rotation: rename, the writer appends a little more to the old file (ending in
            #    an unterminated line), then a new file appears at the path.
            os.rename(log, log + ".1")
            tail = lines(rng, 30)
            append(log + ".1", tail)
            b = lines(rng, 200)
            append(log, b)
            time.sleep(0.4)  # the daemon has seen the rename by now; the writer is not done
            tail2 = lines(rng, 20)
            append(log + ".1", tail2 + b"3,4")
            history += tail + tail2 + b
            wait_for(lambda: records() == 550, "old file drained, then the new one read", attempts=400)

            s = source()
            check(s["rejects"].get("partial_line", {}).get("count") == 1, "unterminated line of the rotated file")
            check(s["restarts"] == 1, "rotation counted")

            # 3. Truncation (llama-server restart) and a new header.
            with open(log, "wb") as f:
                f.write(b"")
            time.sleep(0.2)
            c = b"layer_id,expert_ids\n" + lines(rng, 120)
            append(log, c)
            history += c
            wait_for(lambda: records() == 670, "content after truncation")

            # 4. Deletion, then re-creation.
            os.unlink(log)
            time.sleep(1.5)  # the daemon drains and waits
            dd = lines(rng, 80)
            append(log, dd)
            history += dd
            wait_for(lambda: records() == 750, "a deleted file re-created", attempts=400)

            # 5. A very long line between good ones.
            e1, e2 = lines(rng, 10), lines(rng, 10)
            append(log, e1 + b"1," + b"7 " * (1 << 20) + b"3\n" + e2)
            history += e1 + e2
            wait_for(lambda: records() == 770, "lines around a very long one")
            check(source()["rejects"].get("line_too_long", {}).get("count") == 1, "the long line is rejected")

            # 6. The file stops growing: the daemon idles.
            time.sleep(0.5)
            cpu0 = proc_cpu_seconds(d.proc.pid)
            time.sleep(2.0)
            idle = proc_cpu_seconds(d.proc.pid) - cpu0
            check(idle < 0.2, "idle daemon used %.2f s of CPU in 2 s" % idle)
            d.stop()

        whole = os.path.join(tmp, "history.log")
        with open(whole, "wb") as f:
            f.write(history)
        want = cli_json("analyze", whole)
        got = cli_json("--db", db, "layers")
        check(hits_by_layer(got) == hits_by_layer(want), "hits equal analyze of every complete line written")
        check(got["global"]["tokens"] == want["global"]["tokens"] == 770, "770 records")
        print("ok: late file, rotation with a lingering writer, truncation, deletion, long line, idle (%.3f s CPU in 2 s)"
              % idle)


if __name__ == "__main__":
    main()
