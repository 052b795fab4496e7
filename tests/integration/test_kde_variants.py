"""`moescope kde` variants against scipy.stats.gaussian_kde as the independent reference:
trimmed values (--trim T), the value of the reference's P-th most selected expert
(--popular P), and full router logits instead of top-k weights (--logits), on a generated
document whose records carry 16 logits, their top-4 ids and softmax weights; a stored
popular fit keeps its expert (docs/FIGURES.md "Reference distributions")."""
import json
import math
import os
import sqlite3
import tempfile

import numpy as np
from scipy import stats

from harness import check, cli, cli_json

E, K, LAYERS = 16, 4, 2


def close(a, b, rel, what):
    check(abs(a - b) <= rel * max(abs(a), abs(b), 1e-300), "%s: %r vs %r" % (what, a, b))


def write_doc(path, rng):
    """Records of tags ref, same (ref's distribution) and shift (expert logits moved), per
    layer; returns {tag: [(layer, experts, weights, logits)]} as moescope reads them (float32)."""
    records = {"ref": [], "same": [], "shift": []}
    mu = {layer: rng.normal(0, 1.0, E) for layer in range(LAYERS)}
    with open(path, "w") as f:
        f.write(json.dumps({"type": "meta", "model_id": "kde-16x", "num_experts": E, "top_k": K}) + "\n")
        for tag, n in (("ref", 500), ("same", 400), ("shift", 400)):
            for _ in range(n):
                for layer in range(LAYERS):
                    m = mu[layer] + (np.linspace(1.5, -1.5, E) if tag == "shift" else 0)
                    sd = 1.6 if tag == "shift" else 1.0  # sharper routing: weights move too
                    z = [round(float(x), 4) for x in m + rng.normal(0, sd, E)]
                    top = sorted(range(E), key=lambda e: -z[e])[:K]
                    p = np.exp(np.array([z[e] for e in top]) - z[top[0]])
                    w = [round(float(x), 6) for x in p / p.sum()]
                    f.write(json.dumps({"layer": layer, "experts": top, "weights": w, "logits": z, "tag": tag}) + "\n")
                    records[tag].append((layer, top, np.float32(w), np.float32(z)))
    return records


def values(records, layer, how, n, logits, expert=None):
    """The reference computation of kde_values_of, one tag and layer."""
    out = []
    for lay, top, w, z in records:
        if lay != layer:
            continue
        v = z if logits else w
        if how == "rank":
            out.append(float(np.sort(v)[::-1][n - 1]))
        elif how == "trim":
            s = np.sort(v)
            out.extend(float(x) for x in s[n:len(s) - n])
        elif logits:
            out.append(float(z[expert]))
        elif expert in top:
            out.append(float(w[top.index(expert)]))
    return out


def popular(records, layer, p):
    hits = np.zeros(E, dtype=np.int64)
    for lay, top, _, _ in records:
        if lay == layer:
            hits[top] += 1
    order = sorted((e for e in range(E) if hits[e] > 0), key=lambda e: (-hits[e], e))
    return order[p - 1]


def check_against_scipy(path, records, args, how, n, logits):
    name = {"rank": "top%d_" % n, "trim": "trim%d_" % n, "popular": "popular%d_" % n}[how] + \
        ("logit" if logits else "weight") + ("s" if how == "trim" else "")
    shown = {}
    for test in ("same", "shift"):
        out = cli_json("kde", "--fit", "ref", "--test", test, *args, path)["kde"]
        check(out["value"] == name, "value %r, expected %r" % (out["value"], name))
        check([x["layer"] for x in out["layers"]] == list(range(LAYERS)), "layers: %r" % out["layers"])
        for got in out["layers"]:
            layer = got["layer"]
            expert = popular(records["ref"], layer, n) if how == "popular" else None
            if how == "popular":
                check(got["expert"] == expert, "%s layer %d: expert %r, expected %r" % (name, layer, got["expert"], expert))
            else:
                check("expert" not in got, "%s: no expert key" % name)
            ref = np.array(values(records["ref"], layer, how, n, logits, expert))
            tested = values(records[test], layer, how, n, logits, expert)
            check(got["n_fit"] == len(ref) and got["n_test"] == len(tested),
                  "%s layer %d: n_fit %d n_test %d, expected %d %d" % (name, layer, got["n_fit"], got["n_test"], len(ref), len(tested)))
            kde = stats.gaussian_kde(ref)
            close(got["bandwidth"], math.sqrt(kde.covariance[0][0]), 1e-9, "%s bandwidth" % name)
            lo, hi, cdf = got["cdf_grid"]["lo"], got["cdf_grid"]["hi"], got["cdf_grid"]["cdf"]
            for i in (0, 200, 511, 800, 1023):
                x = lo + (hi - lo) * i / (len(cdf) - 1)
                close(cdf[i], kde.integrate_box_1d(-np.inf, x), 1e-9, "%s CDF at %g" % (name, x))
            p = [1 - kde.integrate_box_1d(-np.inf, v) for v in tested]
            ks = stats.kstest(p, "uniform").statistic
            check(abs(got["ks_distance"] - ks) < 3e-3, "%s %s layer %d: KS %r vs scipy %r" % (name, test, layer, got["ks_distance"], ks))
            check(sum(got["p_value_histogram"]) == len(tested), "the histogram counts every p-value")
            shown[(test, layer)] = ks
    # The shifted tag is told apart from the same distribution by every variant.
    # (same: below the 1 % critical value of KS for about 400 values)
    for layer in range(LAYERS):
        check(shown[("same", layer)] < 0.08 and shown[("shift", layer)] > 0.1,
              "%s layer %d: KS same %r, shift %r" % (name, layer, shown[("same", layer)], shown[("shift", layer)]))


def test_stored_popular(tmp, path, records):
    """A stored --popular fit keeps the reference's expert per layer (kde_fit.expert), and
    testing against it uses that expert, not the tested tag's own most selected."""
    db = os.path.join(tmp, "fit.db")
    cli("kde", "--fit", "ref", "--popular", "1", "--logits", path, "--db", db)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    rows = con.execute("SELECT layer, value, expert FROM kde_fit ORDER BY layer").fetchall()
    con.close()
    want = [(layer, "popular1_logit", popular(records["ref"], layer, 1)) for layer in range(LAYERS)]
    check(rows == want, "stored rows %r, expected %r" % (rows, want))
    fresh = cli_json("kde", "--fit", "ref", "--test", "shift", "--popular", "1", "--logits", path)["kde"]
    stored = cli_json("kde", "--test", "shift", "--popular", "1", "--logits", path, "--reference", db)["kde"]
    for a, b in zip(fresh["layers"], stored["layers"]):
        check(a["expert"] == b["expert"] and a["ks_distance"] == b["ks_distance"] and
              a["p_value_histogram"] == b["p_value_histogram"], "stored %r vs fresh %r" % (b["ks_distance"], a["ks_distance"]))
    # Another quantity is not in the database (exit 3, naming what it holds); the text table
    # names the expert.
    err = cli("kde", "--test", "shift", "--popular", "2", "--logits", path, "--reference", db, expect_rc=3).stderr
    check("holds no popular2_logit fit (it holds popular1_logit of tag 'ref')" in err, "message: %r" % err)
    text = cli("kde", "--test", "shift", "--popular", "1", "--logits", path, "--reference", db).stdout
    header = next(l for l in text.splitlines() if l.startswith("layer"))
    check(text.startswith("verdict: 'shift' ") and "expert" in header and "popular1_logit" in text,
          "text table:\n%s" % text)


def main():
    rng = np.random.default_rng(1618)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "logits.ndjson")
        records = write_doc(path, rng)
        check_against_scipy(path, records, ["--trim", "1"], "trim", 1, False)
        check_against_scipy(path, records, ["--trim", "2", "--logits"], "trim", 2, True)
        check_against_scipy(path, records, ["--trim", "4", "--logits"], "trim", 4, True)
        check_against_scipy(path, records, ["--popular", "1"], "popular", 1, False)
        check_against_scipy(path, records, ["--popular", "2", "--logits"], "popular", 2, True)
        check_against_scipy(path, records, ["--rank", "3", "--logits"], "rank", 3, True)
        test_stored_popular(tmp, path, records)
        # Bad combinations get a one-line message and exit 2; no values to fit is exit 3.
        cli("kde", "--fit", "ref", "--test", "shift", "--trim", "1", "--rank", "2", path, expect_rc=2)
        cli("kde", "--fit", "ref", "--test", "shift", "--trim", "1", "--popular", "1", path, expect_rc=2)
        cli("kde", "--fit", "ref", "--test", "shift", "--trim", "0", path, expect_rc=2)
        err = cli("kde", "--fit", "ref", "--test", "shift", "--trim", "2", path, expect_rc=3).stderr  # 2T >= k = 4
        check("--trim 2 needs records of more than 4 experts" in err, "message: %r" % err)
        cli("kde", "--fit", "ref", "--test", "shift", "--popular", "17", "--logits", path, expect_rc=3)  # E = 16
    print("ok")


if __name__ == "__main__":
    main()
