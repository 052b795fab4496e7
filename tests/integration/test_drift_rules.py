"""The shipped Prometheus alerting rules (samples/prometheus/moescope_rules.yml, docs/OPERATIONS.md
"Drift alerts") are valid and behave as documented: `promtool check rules` and
`promtool test rules` on their unit test (moescope_rules_test.yml)."""
import os
import shutil
import subprocess

from harness import SOURCE, check, fail

RULES = os.path.join(SOURCE, "samples", "prometheus")


def promtool(*args):
    p = subprocess.run(["promtool", *args], cwd=RULES, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "promtool %s failed:\n%s%s" % (" ".join(args), p.stdout, p.stderr))
    return p.stdout


def main():
    if not shutil.which("promtool"):
        fail("promtool not found (apt-get install prometheus)")
    out = promtool("check", "rules", "moescope_rules.yml")
    check("1 rules found" in out, "one alerting rule: " + out)
    promtool("test", "rules", "moescope_rules_test.yml")
    print("ok")


if __name__ == "__main__":
    main()
