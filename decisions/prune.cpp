#include "decisions/prune.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace moe {

std::vector<bool> keep_mask(const LayerStats& l, size_t E, const PruneSpec& spec, int32_t layer) {
    std::vector<double> w = expert_weights(l, spec.by);
    if (spec.by == Weighting::mass && w.empty()) throw_no_mass(layer);
    w.resize(std::max(E, w.size()), 0.0);
    std::vector<bool> keep(w.size(), false);
    const auto order = rank_experts(w);
    size_t n = 0;
    switch (spec.rule) {
        case PruneRule::keep_coverage:
            n = experts_for_share(coverage_curve(w, order), spec.value);
            break;
        case PruneRule::keep_count:
            n = std::min(order.size(), static_cast<size_t>(spec.value));
            break;
        case PruneRule::drop_below: {
            double total = 0;
            for (uint32_t e : order)
                total += w[e];
            for (size_t e = 0; e < w.size(); ++e)
                keep[e] = total > 0 && w[e] / total >= spec.value;
            return keep;
        }
    }
    for (size_t i = 0; i < n; ++i)
        keep[order[i]] = true;
    return keep;
}

KeepList plan_keep_list(const Aggregates& agg, const std::vector<TagId>& tags,
                        const PruneSpec& spec) {
    KeepList out;
    const size_t E = agg.num_experts();
    for (int32_t id : agg.tag(kAllTag).layer_ids()) {
        std::vector<bool> keep(std::max(E, agg.tag(kAllTag).layer(id)->hits.size()), false);
        for (TagId t : tags) {
            const LayerStats* l = agg.tag(t).layer(id);
            if (!l || l->tokens == 0) continue;
            const auto m = keep_mask(*l, keep.size(), spec, id);
            for (size_t e = 0; e < keep.size() && e < m.size(); ++e)
                keep[e] = keep[e] || m[e];
        }
        out[id] = std::move(keep);
    }
    return out;
}

double DropCost::selection_share() const {
    return selections ? static_cast<double>(dropped_selections) / static_cast<double>(selections)
                      : NAN;
}

double DropCost::mass_share() const {
    return weighted && mass > 0 ? dropped_mass / mass : NAN;
}

std::optional<double> DropCost::any_share() const {
    if (!tokens_any || tokens == 0) return std::nullopt;
    return static_cast<double>(*tokens_any) / static_cast<double>(tokens);
}

std::optional<double> DropCost::all_share() const {
    if (!tokens_all || tokens == 0) return std::nullopt;
    return static_cast<double>(*tokens_all) / static_cast<double>(tokens);
}

void DropCost::add(const DropCost& o) {
    tokens_known = tokens_known && o.tokens_known;
    const bool first = tokens == 0 && selections == 0;
    tokens += o.tokens;
    selections += o.selections;
    dropped_selections += o.dropped_selections;
    mass += o.mass;
    dropped_mass += o.dropped_mass;
    weighted = weighted || o.weighted;
    auto pool = [first](std::optional<uint64_t>& a, const std::optional<uint64_t>& b) {
        if (first)
            a = b;
        else if (a && b)
            *a += *b;
        else
            a.reset();
    };
    pool(tokens_any, o.tokens_any);
    pool(tokens_all, o.tokens_all);
}

namespace {
bool kept(const std::vector<bool>& keep, size_t e) {
    return e >= keep.size() || keep[e];  // beyond the list: not pruned
}
}  // namespace

DropCost drop_cost(const LayerStats& l, const std::vector<bool>& keep) {
    DropCost c;
    c.tokens = l.tokens;
    c.tokens_known = l.tokens_known();
    c.weighted = l.weighted_tokens > 0;
    const size_t E = l.hits.size();
    for (size_t e = 0; e < E; ++e) {
        c.selections += l.hits[e];
        const double m = c.weighted && e < l.weight_mass.size() ? l.weight_mass[e] : 0.0;
        c.mass += m;
        if (kept(keep, e)) continue;
        c.dropped_selections += l.hits[e];
        c.dropped_mass += m;
    }
    if (l.has_counts()) {
        // Engine totals (alone or beside records) have no tokens to count drops in.
    } else if (l.top_k == 1) {
        c.tokens_any = c.tokens_all = c.dropped_selections;
    } else if (l.top_k == 2 && l.cooc.num_experts() >= E) {
        // A record is one pair {a, b}: all dropped when both are, none when both are kept.
        uint64_t both_dropped = 0, both_kept = 0;
        for (size_t a = 0; a < E; ++a)
            for (size_t b = a + 1; b < E; ++b) {
                const uint64_t n = l.cooc.get(a, b);
                if (!kept(keep, a) && !kept(keep, b)) both_dropped += n;
                if (kept(keep, a) && kept(keep, b)) both_kept += n;
            }
        c.tokens_all = both_dropped;
        c.tokens_any = l.tokens - both_kept;
    }
    return c;
}

std::map<int32_t, std::pair<uint64_t, uint64_t>> token_drops(const RoutingSequence& seq, TagId tag,
                                                             const KeepList& keep) {
    std::map<int32_t, std::pair<uint64_t, uint64_t>> out;
    for (const auto& en : seq.entries()) {
        if (!in_tag(en, tag)) continue;
        const auto it = keep.find(en.layer);
        size_t dropped = 0;
        if (it != keep.end())
            for (int32_t e : seq.experts(en))
                dropped += kept(it->second, static_cast<size_t>(e)) ? 0 : 1;
        auto& [any, all] = out[en.layer];
        any += dropped > 0;
        all += dropped == en.k && en.k > 0;
    }
    return out;
}

}  // namespace moe
