// The report's "Decisions" data: coverage curves per layer, a keep/drop map and the cache
// hit rate against capacity (docs/FIGURES.md "Coverage", "Pruning", "Cache simulation").
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "cli/html_report.hpp"
#include "decisions/coverage.hpp"
#include "decisions/prune.hpp"

namespace moe {

namespace {
constexpr double kReportKeepCoverage = 0.9;  // the keep/drop map's rule: coverage 90 % by hits

double round4(double v) {
    return std::isfinite(v) ? std::round(v * 1e4) / 1e4 : v;
}

void needed(JsonWriter& w, std::string_view key, const std::optional<CoverageSide>& s) {
    w.key(key);
    if (!s) {
        w.null();
        return;
    }
    w.begin_array();
    for (size_t n : s->needed)
        w.value(static_cast<uint64_t>(n));
    w.end_array();
}
}  // namespace

void write_report_decisions(JsonWriter& w, const Aggregates& agg, const TagStats& t, TagId id) {
    const size_t E = agg.num_experts();
    w.key("decisions").begin_object();
    w.key("levels").begin_array();
    for (double p : kCoverageLevels)
        w.value(p);
    w.end_array();
    w.key("coverage").begin_array();
    for (int32_t l : t.layer_ids()) {
        if (t.layer(l)->tokens == 0) continue;
        const LayerCoverage c = layer_coverage(t, l);
        w.begin_object().field("layer", l);
        needed(w, "hits", c.hits);
        needed(w, "mass", c.mass);
        w.key("curve").begin_array();
        for (double v : c.hits.curve)
            w.value(round4(v));
        w.end_array().end_object();
    }
    w.end_array();

    const PruneSpec spec{PruneRule::keep_coverage, kReportKeepCoverage, Weighting::hits};
    w.key("keep_rule").begin_object().field("keep_coverage", spec.value).field("by", "hits");
    w.end_object().key("keep").begin_array();
    DropCost pooled;
    for (const auto& [layer, mask] : plan_keep_list(agg, {id}, spec)) {
        const LayerStats* ls = t.layer(layer);
        if (!ls) continue;
        const DropCost c = drop_cost(*ls, mask);
        pooled.add(c);
        w.begin_object().field("layer", layer).key("kept").begin_array();
        for (size_t e = 0; e < mask.size(); ++e)
            if (mask[e]) w.value(static_cast<uint64_t>(e));
        w.end_array().field("dropped_selection_share", round4(c.selection_share())).end_object();
    }
    w.end_array().field("dropped_selection_share", round4(pooled.selection_share()));

    // static from the hits for every capacity (pooled over layers); live lru/lfu where the
    // daemon simulated them.
    w.key("cache").begin_object().key("static").begin_array();
    // by_rank[i]: the i-th largest hits of each layer, summed over layers; the static hits
    // of capacity C are its first C entries.
    std::vector<uint64_t> by_rank(E, 0);
    uint64_t total = 0;
    for (int32_t l : t.layer_ids()) {
        auto h = t.layer(l)->hits;
        std::sort(h.begin(), h.end(), std::greater<>());
        for (size_t i = 0; i < h.size() && i < E; ++i)
            by_rank[i] += h[i];
        for (uint64_t x : h)
            total += x;
    }
    uint64_t hit = 0;
    for (size_t C = 1; C <= E; ++C) {
        hit += by_rank[C - 1];
        w.value(total ? round4(static_cast<double>(hit) / static_cast<double>(total)) : NAN);
    }
    w.end_array().key("live").begin_array();
    std::map<std::pair<std::string_view, uint32_t>, std::pair<uint64_t, uint64_t>> live;
    for (int32_t l : t.layer_ids())
        for (const OnlineCache& c : t.layer(l)->caches.caches) {
            auto& [a, h] = live[{online_policy_name(c.spec().policy), c.spec().capacity}];
            a += c.accesses;
            h += c.hits;
        }
    for (const auto& [key, ah] : live)
        w.begin_object()
            .field("policy", key.first)
            .field("capacity", key.second)
            .field("hit_rate",
                   ah.first ? static_cast<double>(ah.second) / static_cast<double>(ah.first) : NAN)
            .end_object();
    w.end_array().end_object().end_object();
}

}  // namespace moe
