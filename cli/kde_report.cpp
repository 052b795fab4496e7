// `moescope kde --fit REF --test TAG FILE...`: per layer, a Gaussian KDE of REF's top-1
// routing weights and how TAG's look against it: p-value histogram and KS distance from
// uniform (decisions/kde.hpp, docs/FIGURES.md "Reference distributions").
#include <map>
#include <stdexcept>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "decisions/kde.hpp"

namespace moe {

namespace {
struct LayerKde {
    int32_t layer = 0;
    KdeCdf fit;
    std::vector<double> p_values;  // of the tested records, in log order
    double ks = 0;
    std::vector<size_t> histogram;
};

// The top-1 routing weight of each weighted record of `tag`, per layer.
std::map<int32_t, std::vector<double>> top1_weights(const RoutingSequence& seq, TagId tag) {
    std::map<int32_t, std::vector<double>> out;
    for (const auto& e : seq.entries()) {
        if (e.tag != tag || !e.weighted || e.k == 0) continue;
        out[e.layer].push_back(static_cast<double>(seq.weights(e)[0]));
    }
    return out;
}

std::vector<LayerKde> run(const Query& x) {
    if (!x.sequence)
        throw std::invalid_argument(
            "kde fits the routing weights of FILE arguments; a database keeps totals only "
            "(moescope kde --fit REF --test TAG FILE...)");
    const DriftArgs& d = x.args.drift;
    if (d.fit.empty() || d.test.empty())
        throw std::invalid_argument("kde needs --fit TAG (the reference) and --test TAG");
    const TagId ref = *x.agg.find_tag(x.tag_named(d.fit).name);
    const TagId test = *x.agg.find_tag(x.tag_named(d.test).name);
    const auto ref_values = top1_weights(*x.sequence, ref);
    const auto test_values = top1_weights(*x.sequence, test);
    std::vector<LayerKde> out;
    for (const auto& [layer, values] : ref_values) {
        if (x.q.layer && *x.q.layer != layer) continue;
        LayerKde k;
        k.layer = layer;
        k.fit = fit_kde(values);
        if (k.fit.n == 0) continue;
        if (const auto t = test_values.find(layer); t != test_values.end())
            for (double v : t->second)
                k.p_values.push_back(k.fit.upper_tail(v));
        k.ks = ks_uniform(k.p_values);
        k.histogram = p_value_histogram(k.p_values);
        out.push_back(std::move(k));
    }
    if (out.empty())
        throw NoDataError("no layer of tag '" + d.fit +
                          "' has two or more weighted records with spread to fit");
    return out;
}

void kde_json(JsonWriter& w, const Query& x) {
    const auto layers = run(x);
    w.key("kde").begin_object();
    w.field("fit", std::string_view(x.args.drift.fit))
        .field("test", std::string_view(x.args.drift.test));
    w.field("value", "top1_weight").key("layers").begin_array();
    for (const auto& k : layers) {
        w.begin_object().field("layer", k.layer).field("n_fit", k.fit.n);
        w.field("bandwidth", k.fit.bandwidth).field("n_test", k.p_values.size());
        w.field("ks_distance", k.ks).key("p_value_histogram").begin_array();
        for (size_t c : k.histogram)
            w.value(c);
        w.end_array();
        w.key("cdf_grid").begin_object().field("lo", k.fit.lo).field("hi", k.fit.hi);
        w.key("cdf").begin_array();
        for (double c : k.fit.cdf)
            w.value(c);
        w.end_array().end_object().end_object();
    }
    w.end_array().end_object();
}

Table kde_table(const Query& x, bool csv) {
    Table t(
        {"layer", "n_fit", "bandwidth", "n_test", "ks_distance", "p-value histogram (10 bins)"});
    for (const auto& k : run(x)) {
        std::string h;
        for (size_t c : k.histogram)
            h += (h.empty() ? "" : " ") + std::to_string(c);
        t.add({std::to_string(k.layer), std::to_string(k.fit.n),
               csv ? fmt_num::csv(k.fit.bandwidth) : fmt_num::sig(k.fit.bandwidth, 4),
               std::to_string(k.p_values.size()),
               csv ? fmt_num::csv(k.ks) : fmt_num::fixed(k.ks, 4), h});
    }
    return t;
}
}  // namespace

extern const CommandSpec kKdeCommand = {
    "kde",
    "Reference KDE of top-1 routing weights: p-values of --test vs --fit",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        app.add_option("--fit", a.drift.fit, "The reference tag whose values are fitted");
        app.add_option("--test", a.drift.test, "The tag whose values are tested against it");
        flag::layer(app, a, "Only this layer");
    },
    kNeedsTotals | kNeedsLayer | kNeedsSequence,
    kde_json,
    [](const Query& x) { return kde_table(x, true).csv(); },
    [](const Query& x) {
        return "Top-1 routing weight of tag '" + x.args.drift.test +
               "' against a Gaussian KDE of "
               "tag '" +
               x.args.drift.fit +
               "' (Scott's bandwidth): p-value = upper tail; "
               "uniform p-values (KS distance near 0) = same distribution\n" +
               kde_table(x, false).render();
    },
};

}  // namespace moe
