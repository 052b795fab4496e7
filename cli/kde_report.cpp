// `moescope kde`: per layer, a Gaussian KDE of a reference tag's K-th largest routing weight
// and how a tested tag's look against it: p-value histogram and KS distance from uniform
// (decisions/kde.hpp, docs/FIGURES.md "Reference distributions").
//   kde --fit REF --test TAG FILE...          fit and test in one run
//   kde --fit REF FILE... --db DB             store the fit in DB (the kde_fit table)
//   kde --test TAG FILE... --reference DB     test against the fit stored in DB
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "cli/verdict.hpp"
#include "decisions/kde.hpp"
#include "decisions/kde_values.hpp"
#include "storage/kde_store.hpp"
#include "storage/store.hpp"
#include "storage/writer_lock.hpp"

namespace moe {

namespace {
// The kde command's own options: the reference, the tested tag and the value compared.
struct KdeArgs final : CommandOptions {
    std::string fit, test;  // reference tag and tested tag
    std::string reference;  // --reference DB: the stored fit of --fit in DB
    uint32_t rank = 1;      // --rank K: the K-th largest routing weight of each record
    uint32_t trim = 0;      // --trim T: each record's values without its T largest and smallest
    uint32_t popular = 0;   // --popular P: the values of the reference's P-th most selected
    bool logits = false;    // --logits: full router logits instead of top-k weights
    // The kept sequence holds the logits only when they are the values tested.
    unsigned needs() const override { return logits ? kNeedsLogits : kNeedsNothing; }
};

struct LayerKde {
    int32_t layer = 0;
    int32_t expert = -1;  // the popular expert (--popular), else -1
    KdeCdf fit;
    std::vector<double> p_values;  // of the tested records, in log order
    double ks = 0;
    std::vector<size_t> histogram;
};

struct KdeRun {
    KdeQuantity quantity;
    std::string fit_tag, value;
    std::string stored_in;  // the database the fit was written to, if it was
    std::vector<LayerKde> layers;
    bool tested = false;
};

// The quantity the options ask for (--rank, --trim, --popular, --logits).
KdeQuantity quantity(const KdeArgs& d) {
    if (d.rank == 0) throw std::invalid_argument("--rank counts from 1 (the largest value)");
    KdeQuantity q{KdeQuantity::Kind::rank, d.rank, d.logits};
    if (d.trim) q = {KdeQuantity::Kind::trimmed, d.trim, d.logits};
    if (d.popular) q = {KdeQuantity::Kind::popular, d.popular, d.logits};
    return q;
}

rows::KdeRow to_row(const std::string& tag, const std::string& value, const LayerKde& k,
                    double now) {
    return {tag,      k.layer,  value,     k.fit.n, k.fit.bandwidth,
            k.fit.lo, k.fit.hi, k.fit.cdf, now,     k.expert};
}

// The fits of --fit from the FILE arguments, per layer.
std::vector<LayerKde> fit_files(const Query& x, const KdeQuantity& q, const std::string& value) {
    const TagId ref = *x.agg.find_tag(x.tag_named(x.own<KdeArgs>().fit).name);
    const auto experts = q.kind == KdeQuantity::Kind::popular
                             ? popular_experts(*x.sequence, ref, q.n)
                             : std::map<int32_t, int32_t>{};
    std::vector<LayerKde> out;
    for (const auto& [layer, values] : kde_values(*x.sequence, ref, q, experts)) {
        if (x.q.layer && *x.q.layer != layer) continue;
        LayerKde k;
        k.layer = layer;
        if (const auto e = experts.find(layer); e != experts.end()) k.expert = e->second;
        k.fit = fit_kde(values);
        if (k.fit.n > 0) out.push_back(std::move(k));
    }
    if (out.empty())
        throw NoDataError("no layer of tag '" + x.own<KdeArgs>().fit + "' has two or more " +
                          value + " values with spread to fit" +
                          (q.logits ? " (--logits needs records with router logits)"
                           : q.kind == KdeQuantity::Kind::trimmed
                               ? " (--trim " + std::to_string(q.n) +
                                     " needs records of more than " + std::to_string(2 * q.n) +
                                     " experts)"
                               : ""));
    return out;
}

// The fits stored in --reference DB under --fit (or its only fitted tag).
std::vector<LayerKde> fit_stored(const Query& x, const std::string& value, std::string& tag) {
    const std::string& db = x.own<KdeArgs>().reference;
    Store store = Store::open_read_only(db);
    if (tag.empty()) {
        const auto tags = kde_fit_tags(store.db(), value);
        if (tags.empty())
            throw NoDataError(db + " holds no " + value + " fit (" + describe_kde_fits(store.db()) +
                              ")");
        if (tags.size() > 1)
            throw std::invalid_argument(db + " holds " + value +
                                        " fits of several tags; name the reference with --fit TAG");
        tag = tags.front();
    }
    std::vector<LayerKde> out;
    for (auto& r : load_kde_fits(store.db(), tag, value)) {
        if (x.q.layer && *x.q.layer != r.layer) continue;
        LayerKde k;
        k.layer = r.layer;
        k.expert = r.expert;
        k.fit = {r.n, r.bandwidth, r.lo, r.hi, std::move(r.cdf)};
        out.push_back(std::move(k));
    }
    if (out.empty())
        throw NoDataError(db + " holds no " + value + " fit of tag '" + tag + "'" +
                          (x.q.layer ? " for this layer" : ""));
    return out;
}

void store_fits(const Query& x, const KdeRun& r) {
    Store store = Store::open_for_writing(x.db);
    // One writer per database (docs/ARCHITECTURE.md), as for `moescope import`.
    const UniqueFd lock =
        lock_writer_or_refuse(x.db, "store the fit in another database and test with --reference");
    const double now = static_cast<double>(std::time(nullptr));
    std::vector<rows::KdeRow> fits;
    for (const LayerKde& k : r.layers)
        fits.push_back(to_row(r.fit_tag, r.value, k, now));
    save_kde_fits(store.db(), fits);
}

// Fits (from files or a stored reference), tests --test against them, and stores a fit made
// from files when nothing is tested (the one side effect of this command).
KdeRun run(const Query& x) {
    const auto& d = x.own<KdeArgs>();
    if (!x.sequence)
        throw std::invalid_argument(
            "kde reads the routing weights of FILE arguments; a database keeps totals and "
            "fits only (moescope kde --fit REF FILE... --db DB, then kde --test TAG FILE... "
            "--reference DB)");
    KdeRun r;
    r.quantity = quantity(d);
    r.fit_tag = d.fit;
    r.value = r.quantity.name();
    if (!d.reference.empty()) {
        if (d.test.empty()) throw std::invalid_argument("kde --reference DB needs --test TAG");
        r.layers = fit_stored(x, r.value, r.fit_tag);
    } else {
        if (d.fit.empty())
            throw std::invalid_argument(
                "kde needs --fit TAG (the reference), or --reference DB with a stored fit");
        r.layers = fit_files(x, r.quantity, r.value);
    }
    if (d.test.empty()) {
        store_fits(x, r);
        r.stored_in = x.db;
        return r;
    }
    r.tested = true;
    const TagId test = *x.agg.find_tag(x.tag_named(d.test).name);
    // The tested tag's values of the reference's popular expert (--popular), not its own.
    std::map<int32_t, int32_t> experts;
    for (const LayerKde& k : r.layers)
        experts[k.layer] = k.expert;
    const auto test_values = kde_values(*x.sequence, test, r.quantity, experts);
    for (LayerKde& k : r.layers) {
        if (const auto t = test_values.find(k.layer); t != test_values.end())
            for (double v : t->second)
                k.p_values.push_back(k.fit.upper_tail(v));
        k.ks = ks_uniform(k.p_values);
        k.histogram = p_value_histogram(k.p_values);
    }
    return r;
}

// docs/FIGURES.md "Reference distributions": a layer's --test values differ from the fit
// when the KS distance of their p-values from uniform exceeds Kolmogorov's 1 % critical
// value, 1.628 / sqrt(n_test) (for a trimmed fit's pooled values, a distance, not a test).
constexpr double kKsCritical = 1.628;

bool ks_differs(const LayerKde& k) {
    return !k.p_values.empty() &&
           k.ks > kKsCritical / std::sqrt(static_cast<double>(k.p_values.size()));
}

// The line `kde` opens with: how many layers' --test values differ from the fit.
VerdictLine kde_verdict(const KdeRun& r, const std::string& test) {
    if (!r.tested)
        return {"fitted", std::string(kVerdictPrefix) + "fitted " + r.value + " of tag '" +
                              r.fit_tag + "' in " + layers_count(r.layers.size(), r.layers.size()) +
                              "; nothing tested (--test TAG judges a tag against it)"};
    size_t tested = 0, differ = 0;
    const LayerKde* worst = nullptr;
    for (const LayerKde& k : r.layers) {
        if (k.p_values.empty()) continue;
        ++tested;
        differ += ks_differs(k);
        if (!worst || k.ks > worst->ks) worst = &k;
    }
    if (!worst)
        return {"too_few_values",
                std::string(kVerdictPrefix) + "tag '" + test + "' has no values to test"};
    return {differ ? "differs" : "same",
            std::string(kVerdictPrefix) + "'" + test + "' " +
                (differ ? "differs from" : "matches") + " the fit of '" + r.fit_tag + "' in " +
                layers_count(differ ? differ : tested, tested) + " (max KS " +
                fmt_num::fixed(worst->ks, 4) + ", layer " + std::to_string(worst->layer) + ")"};
}

void kde_json(JsonWriter& w, const Query& x) {
    const KdeRun r = run(x);
    write_verdict_json(w, kde_verdict(r, x.own<KdeArgs>().test));
    w.key("kde").begin_object();
    w.field("fit", std::string_view(r.fit_tag))
        .field("test", std::string_view(x.own<KdeArgs>().test));
    w.field("value", std::string_view(r.value));
    if (!r.stored_in.empty()) w.field("stored_in", std::string_view(r.stored_in));
    w.key("layers").begin_array();
    for (const auto& k : r.layers) {
        w.begin_object().field("layer", k.layer);
        if (k.expert >= 0) w.field("expert", k.expert);
        w.field("n_fit", k.fit.n);
        w.field("bandwidth", k.fit.bandwidth);
        if (r.tested) {
            w.field("n_test", k.p_values.size()).field("ks_distance", k.ks);
            w.key("p_value_histogram").begin_array();
            for (size_t c : k.histogram)
                w.value(c);
            w.end_array();
        }
        w.key("cdf_grid").begin_object().field("lo", k.fit.lo).field("hi", k.fit.hi);
        w.key("cdf").begin_array();
        for (double c : k.fit.cdf)
            w.value(c);
        w.end_array().end_object().end_object();
    }
    w.end_array().end_object();
}

Table kde_table(const KdeRun& r, bool csv) {
    auto num = [csv](double v, int digits) {
        return csv ? fmt_num::csv(v) : fmt_num::sig(v, digits);
    };
    const bool popular = r.quantity.kind == KdeQuantity::Kind::popular;
    std::vector<std::string> head{"layer"};
    if (popular) head.push_back("expert");
    head.insert(head.end(), {"n_fit", "bandwidth"});
    if (r.tested)
        head.insert(head.end(), {"n_test", "ks_distance", "p-value histogram (10 bins)"});
    else
        head.insert(head.end(), {"lo", "hi"});
    Table t(head);
    for (const auto& k : r.layers) {
        std::vector<std::string> row{std::to_string(k.layer)};
        if (popular) row.push_back(std::to_string(k.expert));
        row.insert(row.end(), {std::to_string(k.fit.n), num(k.fit.bandwidth, 4)});
        if (r.tested) {
            std::string h;
            for (size_t c : k.histogram)
                h += (h.empty() ? "" : " ") + std::to_string(c);
            row.insert(row.end(), {std::to_string(k.p_values.size()),
                                   csv ? fmt_num::csv(k.ks) : fmt_num::fixed(k.ks, 4), h});
        } else {
            row.insert(row.end(), {num(k.fit.lo, 4), num(k.fit.hi, 4)});
        }
        t.add(row);
    }
    return t;
}

std::string kde_text(const Query& x) {
    const KdeRun r = run(x);
    const auto& d = x.own<KdeArgs>();
    const std::string head =
        !r.tested ? "Gaussian KDE (Scott's bandwidth) of " + r.value + " of tag '" + r.fit_tag +
                        "' stored in " + r.stored_in
                  : r.value + " of tag '" + d.test + "' against a Gaussian KDE of tag '" +
                        r.fit_tag + "'" + (d.reference.empty() ? "" : " stored in " + d.reference) +
                        " (Scott's bandwidth): p-value = upper tail; uniform p-values (KS distance "
                        "near 0) = same distribution; differs: KS > 1.628 / sqrt(n_test)";
    return verdict_paragraph(kde_verdict(r, d.test)) + wrap("", head, 100, "") +
           kde_table(r, false).render();
}
}  // namespace

namespace {
constexpr FailMetric kKdeFailOn[] = {
    {"ks", "KS distance of a layer's --test p-values from uniform (needs --test)"},
};

std::vector<FailReading> kde_readings(const Query& x) {
    std::vector<FailReading> out;
    for (const LayerKde& k : run(x).layers)
        out.push_back({k.layer, "ks", k.ks, ""});
    return out;
}

}  // namespace

extern const CommandSpec kKdeCommand = {
    "kde",
    "Reference KDE of routing weights or logits: store it, or p-values of --test against it",
    [](CLI::App& app, CommandArgs& a) {
        auto& d = a.make_own<KdeArgs>();
        flag::query(app, a);
        app.add_option("--fit", d.fit,
                       "The reference tag: fitted from FILE, or its fit in --reference; without "
                       "--test the fit is stored in --db");
        auto* test = app.add_option("--test", d.test, "The tag whose values are tested against it");
        app.add_option("--reference", d.reference,
                       "A database holding the fit (stored by kde --fit REF FILE... --db DB)");
        auto* rank =
            app.add_option("--rank", d.rank, "Fit and test the K-th largest value of each record")
                ->capture_default_str();
        auto* trim = app.add_option("--trim", d.trim,
                                    "Fit and test each record's values without its T largest "
                                    "and T smallest")
                         ->check(CLI::PositiveNumber)
                         ->excludes(rank);
        app.add_option("--popular", d.popular,
                       "Fit and test the value of the reference's P-th most selected expert")
            ->check(CLI::PositiveNumber)
            ->excludes(rank)
            ->excludes(trim);
        app.add_flag("--logits", d.logits,
                     "The records' full router logits instead of their top-k routing weights");
        flag::layer(app, a, "Only this layer");
        flag::fail_on(app, a, kKdeFailOn)->needs(test);
    },
    kNeedsTotals | kNeedsLayer | kNeedsSequence | kDbWithFiles,
    kde_json,
    [](const Query& x) { return kde_table(run(x), true).csv(); },
    kde_text,
    nullptr,
    kKdeFailOn,
    kde_readings,
};

}  // namespace moe
