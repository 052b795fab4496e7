// `moescope corr`: correlation of expert load between layers l and l + delta.
#include <algorithm>
#include <cmath>
#include <map>

#include "analytics/layer_correlation.hpp"
#include "cli/command.hpp"
#include "cli/deep_report.hpp"

namespace moe {

namespace {
// Up to the larger of --delta-max and the periodic deltas, so summaries never lack pairs.
std::vector<LayerCorrelation> correlations(const Aggregates& agg, const TagStats& tag,
                                           const QueryOptions& q) {
    int32_t reach = q.delta_max;
    for (int32_t d : q.periodic)
        reach = std::max(reach, d);
    return layer_correlations(tag, agg.num_experts(), reach);
}

bool listed(const LayerCorrelation& c, const QueryOptions& q) {
    return c.delta <= q.delta_max && (!q.layer || c.layer == *q.layer);
}

std::vector<PeriodicSummary> summaries(const std::vector<LayerCorrelation>& rs,
                                       const std::vector<int32_t>& deltas) {
    std::vector<PeriodicSummary> out;
    for (int32_t d : deltas)
        out.push_back(periodic_summary(rs, d));
    return out;
}
}  // namespace

void write_corr_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                     const QueryOptions& q) {
    const auto rs = correlations(agg, tag, q);
    w.key("layer_correlation").begin_array();
    for (const auto& c : rs) {
        if (!listed(c, q)) continue;
        w.begin_object().field("tag", std::string_view(tag.name)).field("layer", c.layer);
        w.field("delta", c.delta).field("r", c.r).end_object();
    }
    w.end_array();
    w.key("periodic").begin_array();
    for (const auto& p : summaries(rs, q.periodic)) {
        w.begin_object().field("tag", std::string_view(tag.name)).field("delta", p.delta);
        w.field("mean", p.mean)
            .field("std", p.std)
            .field("n", static_cast<uint64_t>(p.n))
            .end_object();
    }
    w.end_array();
}

std::string corr_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    const auto rs = correlations(agg, tag, q);
    if (rs.empty())
        return "No layer pairs within delta " + std::to_string(q.delta_max) + " for tag '" +
               tag.name + "'.\n";
    std::string s = wrap("",
                         "Layer correlation r(l, delta) = Pearson over experts of the per-token "
                         "load of layers l and l + delta (tag '" +
                             tag.name + "')",
                         100, "") +
                    "\nPeriodic summary:\n";
    Table per({"delta", "mean_r", "std_r", "layer_pairs"});
    for (const auto& p : summaries(rs, q.periodic))
        per.add({std::to_string(p.delta), fmt_num::fixed(p.mean, 4), fmt_num::fixed(p.std, 4),
                 std::to_string(p.n)});
    s += per.render("  ");
    // Mean r per delta: a periodic pattern shows as peaks at its multiples.
    std::map<int32_t, PeriodicSummary> by_delta;
    for (int32_t d = 1; d <= q.delta_max; ++d)
        by_delta[d] = periodic_summary(rs, d);
    s += "\nMean r by delta:\n";
    Table t({"delta", "mean_r", "std_r", "n", ""});
    for (const auto& [d, p] : by_delta) {
        if (p.n == 0) continue;
        const int bar =
            std::isnan(p.mean) ? 0 : static_cast<int>(std::lround(std::max(0.0, p.mean) * 40));
        t.add({std::to_string(d), fmt_num::fixed(p.mean, 4), fmt_num::fixed(p.std, 4),
               std::to_string(p.n), std::string(static_cast<size_t>(bar), '#')});
    }
    s += t.render("  ");
    if (q.matrix || q.layer) {
        s += "\nr(l, delta):\n";
        Table m({"layer", "delta", "r"});
        for (const auto& c : rs)
            if (listed(c, q))
                m.add({std::to_string(c.layer), std::to_string(c.delta), fmt_num::fixed(c.r, 4)});
        s += m.render("  ");
    }
    return s;
}

std::string corr_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q) {
    Table t({"tag", "layer", "delta", "r"});
    for (const auto& c : correlations(agg, tag, q))
        if (listed(c, q))
            t.add({tag.name, std::to_string(c.layer), std::to_string(c.delta), fmt_num::csv(c.r)});
    return t.csv();
}

extern const CommandSpec kCorrCommand = {
    "corr",
    "Correlation of expert load between layers l and l + delta",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Only correlations starting at this layer");
        flag::corr(app, a);
        flag::matrix(app, a, "Also print r for every (layer, delta)");
    },
    kNeedsLayer,
    [](JsonWriter& w, const Query& x) { write_corr_json(w, x.agg, x.tag(), x.q); },
    [](const Query& x) { return corr_csv(x.agg, x.tag(), x.q); },
    [](const Query& x) { return corr_text(x.agg, x.tag(), x.q); },
};

}  // namespace moe
