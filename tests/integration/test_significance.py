"""Significance in `compare` and `moescope drift`, checked against scipy (Debian's
python3-scipy) as the independent reference: chi-square statistics and p-values on the
counts the generator itself tallies, Wilson intervals by their formula, and a generated
document whose shifts are known (docs/FIGURES.md "Tag comparison", "Drift")."""
import csv
import io
import json
import math
import os
import sqlite3
import tempfile

import numpy as np
from scipy import stats

from harness import check, cli, cli_json

E, K = 8, 2
BASE = 1_800_000_000  # 2027-01-15, a whole hour
P = np.array([0.30, 0.20, 0.15, 0.10, 0.10, 0.07, 0.05, 0.03])
Q = np.array([0.10, 0.20, 0.15, 0.10, 0.10, 0.07, 0.05, 0.23])  # expert 0 -> expert 7


class Doc:
    """Writes routing records and tallies, per (tag, layer, hour), hits and top-1 counts."""

    def __init__(self, path):
        self.f = open(path, "w")
        self.f.write(json.dumps({"type": "meta", "model_id": "sig-8x", "num_experts": E, "top_k": K}) + "\n")
        self.hits, self.top1 = {}, {}

    def tokens(self, rng, tag, layer, probs, n, t0):
        for i in range(n):
            experts = [int(e) for e in rng.choice(E, size=K, replace=False, p=probs)]
            ts = t0 + i * (3000.0 / n)
            self.f.write(json.dumps({"layer": layer, "experts": experts, "tag": tag, "ts": ts}) + "\n")
            key = (tag, layer, int(ts - BASE) // 3600)
            h = self.hits.setdefault(key, np.zeros(E, dtype=np.int64))
            t = self.top1.setdefault(key, np.zeros(E, dtype=np.int64))
            for e in experts:
                h[e] += 1
            t[experts[0]] += 1

    def sum(self, table, tag=None, layer=None, hour=None):
        out = np.zeros(E, dtype=np.int64)
        for (t, l, h), v in table.items():
            if (tag is None or t == tag) and (layer is None or l == layer) and (hour is None or h == hour):
                out += v
        return out

    def close(self):
        self.f.close()


def scipy_chi2(a, b):
    table = np.array([a, b])
    table = table[:, table.sum(axis=0) > 0]
    stat, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return stat, dof, p


def wilson(k, n, z=1.959963984540054):
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, c - h), min(1.0, c + h)


def close(x, y, rel=1e-6, what=""):
    check(math.isclose(x, y, rel_tol=rel, abs_tol=1e-12), "%s: %r != %r" % (what, x, y))


def test_compare(path, doc):
    # Layer 0: tag b routes by Q (a real shift); layer 1: both by P (noise only).
    out = cli_json("compare", "--tag", "a", "--vs", "b", "--top", str(E), path)["compare"]
    by_layer = {c["layer"]: c for c in out}
    for layer in (0, 1):
        c = by_layer[layer]
        a, b = doc.sum(doc.hits, "a", layer), doc.sum(doc.hits, "b", layer)
        stat, dof, p = scipy_chi2(a, b)
        close(c["chi2"], stat, what="layer %d chi2" % layer)
        check(c["chi2_dof"] == dof, "layer %d dof %r != %r" % (layer, c["chi2_dof"], dof))
        close(c["chi2_p_value"], p, rel=1e-6, what="layer %d p" % layer)
        ta, tb = doc.sum(doc.top1, "a", layer), doc.sum(doc.top1, "b", layer)
        stat1, dof1, p1 = scipy_chi2(ta, tb)
        close(c["top1_chi2"], stat1, what="layer %d top-1 chi2" % layer)
        close(c["top1_chi2_p_value"], p1, what="layer %d top-1 p" % layer)
        for e in c["experts"]:
            for side, h in (("share_a_ci", a), ("share_b_ci", b)):
                lo, hi = wilson(int(h[e["expert"]]), int(h.sum()))
                close(e[side][0], lo, what="%s low" % side)
                close(e[side][1], hi, what="%s high" % side)
                check(e[side][0] <= (e["share_a"] if side == "share_a_ci" else e["share_b"]) <= e[side][1],
                      "share outside its interval")
    shifted, same = by_layer[0], by_layer[1]
    check(shifted["chi2_p_value"] < 1e-6 and shifted["js_divergence_bits"] > 5 * shifted["js_noise_floor"],
          "the shifted layer is significant: %r" % shifted)
    check(same["chi2_p_value"] > 0.001, "the unshifted layer is noise: %r" % same)
    check(same["js_noise_floor"] / 4 < same["js_divergence_bits"] < same["js_noise_floor"] * 4,
          "noise-only JS is near its floor: %r" % same)
    # The floor is the JS of two samples of these sizes: (E' - 1) / (8 ln 2) (1/Sa + 1/Sb).
    sa, sb = doc.sum(doc.hits, "a", 1).sum(), doc.sum(doc.hits, "b", 1).sum()
    close(same["js_noise_floor"], (E - 1) / (8 * math.log(2)) * (1 / sa + 1 / sb), rel=0.25, what="floor")
    # Reproducible: the resampling is seeded.
    again = cli_json("compare", "--tag", "a", "--vs", "b", path)["compare"]
    check([c["js_noise_floor"] for c in again] == [c["js_noise_floor"] for c in out], "floor not seeded")

    rows = list(csv.DictReader(io.StringIO(cli("compare", "--tag", "a", "--vs", "b", "--csv", path).stdout)))
    r0 = [r for r in rows if r["layer"] == "0"][0]
    close(float(r0["chi2_p_value"]), shifted["chi2_p_value"], rel=1e-5, what="csv p")
    text = cli("compare", "--tag", "a", "--vs", "b", path).stdout
    check("chi2_p" in text and "95% CI a" in text, "text shows p-values and intervals:\n" + text)


def test_drift(path, doc):
    # Tag "live": hours 0 and 1 by P, hour 2 by Q on layer 0 only.
    t0, t1 = BASE, BASE + 3600
    out = cli_json("drift", "--tag", "live", "--baseline-window", "%d..%d" % (t0, t1), "--window", "1h", path)
    layers = {l["layer"]: l for l in out["drift"]["layers"]}
    check(out["drift"]["window_seconds"] == 3600, "window width")
    base = doc.sum(doc.hits, "live", 0, 0)
    l0 = layers[0]
    check([w["start"] for w in l0["windows"]] == [BASE + 3600, BASE + 7200], "windows: %r" % l0["windows"])
    for w, hour in zip(l0["windows"], (1, 2)):
        stat, dof, p = scipy_chi2(base, doc.sum(doc.hits, "live", 0, hour))
        close(w["chi2"], stat, what="drift chi2 hour %d" % hour)
        close(w["chi2_p_value"], p, what="drift p hour %d" % hour)
    check(l0["windows"][0]["verdict"] == "stable", "hour 1 is stable: %r" % l0["windows"][0])
    check(l0["windows"][1]["verdict"] == "drifted", "hour 2 drifted: %r" % l0["windows"][1])
    check(l0["verdict"] == "drifted", "layer 0 verdict from its latest window")
    movers = [m["expert"] for m in l0["windows"][1]["movers"][:2]]
    check(sorted(movers) == [0, 7], "experts 0 and 7 moved most: %r" % movers)
    check(layers[1]["verdict"] == "stable", "layer 1 did not move: %r" % layers[1])

    # A tag as the baseline: "a" (by P) against tag live's windows.
    out = cli_json("drift", "--tag", "live", "--baseline", "a", "--layer", "1", path)
    check([l["layer"] for l in out["drift"]["layers"]] == [1], "--layer keeps one layer")
    text = cli("drift", "--tag", "live", "--baseline", "a", path).stdout
    check("verdict" in text and "drifted" in text, "text has verdicts:\n" + text)
    # Usage errors exit 2 with one line.
    for bad in (["drift", path], ["drift", "--baseline", "a", "--baseline-window", "1..2", path],
                ["drift", "--baseline", "a", "--window", "5x", path],
                ["drift", "--baseline-window", "%d" % t0, path]):
        p = cli(*bad, expect_rc=2)
        check(p.stderr.strip() and "\n" not in p.stderr.strip(), "one-line error: %r" % p.stderr)


def test_kde(tmp):
    """`kde --fit REF --test TAG`: Scott's bandwidth and the CDF table against
    scipy.stats.gaussian_kde (integrate_box_1d), the KS distance of the p-values from uniform
    against scipy.stats.kstest on p-values from scipy's own KDE."""
    rng = np.random.default_rng(7)
    path = os.path.join(tmp, "weights.ndjson")
    values = {"ref": [], "same": [], "shift": []}
    second = []  # the reference's second weights (--rank 2)
    with open(path, "w") as f:
        f.write(json.dumps({"type": "meta", "model_id": "kde-8x", "num_experts": E, "top_k": K}) + "\n")
        for tag, (a, b), n in (("ref", (5, 3), 400), ("same", (5, 3), 300), ("shift", (3, 5), 300)):
            for _ in range(n):
                w1 = round(0.5 + 0.5 * float(rng.beta(a, b)), 6)
                experts = [int(e) for e in rng.choice(E, size=K, replace=False)]
                f.write(json.dumps({"layer": 0, "experts": experts, "weights": [w1, round(1 - w1, 6)], "tag": tag}) + "\n")
                values[tag].append(float(np.float32(w1)))
                if tag == "ref":
                    second.append(float(np.float32(round(1 - w1, 6))))
    ref = np.array(values["ref"])
    kde = stats.gaussian_kde(ref)
    for test, near_uniform in (("same", True), ("shift", False)):
        out = cli_json("kde", "--fit", "ref", "--test", test, path)["kde"]["layers"][0]
        close(out["bandwidth"], math.sqrt(kde.covariance[0][0]), rel=1e-9, what="Scott bandwidth")
        check(out["n_fit"] == len(ref) and out["n_test"] == len(values[test]), "counts: %r" % out)
        lo, hi, cdf = out["cdf_grid"]["lo"], out["cdf_grid"]["hi"], out["cdf_grid"]["cdf"]
        for i in (0, 100, 400, 512, 700, 1023):
            x = lo + (hi - lo) * i / (len(cdf) - 1)
            close(cdf[i], kde.integrate_box_1d(-np.inf, x), rel=1e-9, what="CDF at %g" % x)
        p = [1 - kde.integrate_box_1d(-np.inf, v) for v in values[test]]
        ks = stats.kstest(p, "uniform").statistic
        check(abs(out["ks_distance"] - ks) < 2e-3, "KS %r vs scipy %r" % (out["ks_distance"], ks))
        check(sum(out["p_value_histogram"]) == len(values[test]), "histogram counts every p-value")
        check((ks < 0.1) if near_uniform else (ks > 0.3), "%s: KS %r" % (test, ks))
    test_kde_stored(tmp, path, values, kde)
    test_kde_rank(path, second)
    cli("kde", "--test", "same", path, expect_rc=2)  # neither --fit nor --reference


def test_kde_stored(tmp, path, values, kde):
    """`kde --fit REF FILE --db DB` stores the fit (the kde_fit table, read here with plain
    sqlite3 as docs/SCHEMA.md promises); `kde --test TAG FILE --reference DB` tests against
    it and gives what the in-memory fit gives."""
    db = os.path.join(tmp, "fit.db")
    stored = cli_json("kde", "--fit", "ref", path, "--db", db)["kde"]
    check(stored["stored_in"] == db and stored["layers"][0]["n_fit"] == len(values["ref"]), "stored: %r" % stored["layers"][0]["n_fit"])
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = con.execute("SELECT tag, layer, value, n, bandwidth, lo, hi, cdf FROM kde_fit").fetchall()
    con.close()
    check(len(rows) == 1, "one layer fitted: %r" % len(rows))
    tag, layer, value, n, h, lo, hi, blob = rows[0]
    check((tag, layer, value, n) == ("ref", 0, "top1_weight", len(values["ref"])), "row key: %r" % (rows[0][:4],))
    close(h, math.sqrt(kde.covariance[0][0]), rel=1e-9, what="stored bandwidth")
    cdf = np.frombuffer(blob, dtype="<f8")
    check(len(cdf) == 1024, "CDF table length %d" % len(cdf))
    for i in (0, 300, 511, 1023):
        x = lo + (hi - lo) * i / (len(cdf) - 1)
        close(float(cdf[i]), kde.integrate_box_1d(-np.inf, x), rel=1e-9, what="stored CDF at %g" % x)
    for test in ("same", "shift"):
        fresh = cli_json("kde", "--fit", "ref", "--test", test, path)["kde"]["layers"][0]
        ref = cli_json("kde", "--test", test, path, "--reference", db)["kde"]
        check(ref["fit"] == "ref", "the only stored tag is the reference: %r" % ref["fit"])
        got = ref["layers"][0]
        check(got["ks_distance"] == fresh["ks_distance"] and got["p_value_histogram"] == fresh["p_value_histogram"],
              "%s: stored fit %r vs fresh %r" % (test, got["ks_distance"], fresh["ks_distance"]))
    # Refitting replaces the stored fit, not adds to it; a tag without a fit, a missing file.
    cli("kde", "--fit", "ref", path, "--db", db)
    con = sqlite3.connect(db)
    check(con.execute("SELECT count(*) FROM kde_fit").fetchone()[0] == 1, "refit replaces")
    con.close()
    cli("kde", "--fit", "same", "--test", "shift", path, "--reference", db, expect_rc=3)
    cli("kde", "--test", "shift", path, "--reference", os.path.join(tmp, "none.db"), expect_rc=1)
    cli("kde", "--fit", "ref", path, "--reference", db, expect_rc=2)  # --reference needs --test
    cli("kde", "--test", "shift", "--db", db, expect_rc=2)  # tested values come from FILE


def test_kde_rank(path, second):
    """--rank 2: the second largest weight of each record (1 - w1 here), against scipy."""
    ref = np.array(second)
    out = cli_json("kde", "--fit", "ref", "--test", "shift", "--rank", "2", path)["kde"]
    check(out["value"] == "top2_weight", "value: %r" % out["value"])
    kde = stats.gaussian_kde(ref)
    close(out["layers"][0]["bandwidth"], math.sqrt(kde.covariance[0][0]), rel=1e-9, what="rank-2 bandwidth")
    cli("kde", "--fit", "ref", "--test", "shift", "--rank", "0", path, expect_rc=2)
    cli("kde", "--fit", "ref", "--test", "shift", "--rank", "3", path, expect_rc=3)  # k = 2


def main():
    rng = np.random.default_rng(16)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "routing.ndjson")
        doc = Doc(path)
        doc.tokens(rng, "a", 0, P, 600, BASE)
        doc.tokens(rng, "b", 0, Q, 500, BASE)
        doc.tokens(rng, "a", 1, P, 600, BASE)
        doc.tokens(rng, "b", 1, P, 500, BASE)
        for hour in range(3):
            doc.tokens(rng, "live", 0, Q if hour == 2 else P, 800, BASE + 3600 * hour)
            doc.tokens(rng, "live", 1, P, 800, BASE + 3600 * hour)
        doc.close()
        test_compare(path, doc)
        test_drift(path, doc)
        test_kde(d)
    print("ok")


if __name__ == "__main__":
    main()
