#include "tracing/position_routing.hpp"

#include <algorithm>
#include <numeric>

#include "analytics/tag_compare.hpp"
#include "tracing/token_key.hpp"

namespace moe {

void GroupHits::add(std::span<const int32_t> experts) {
    ++tokens;
    for (int32_t e : experts) {
        const auto i = static_cast<size_t>(e);  // validated: 0 <= e <= kMaxExpert
        if (i >= hits.size()) hits.resize(i + 1, 0);
        ++hits[i];
    }
}

void PositionRouting::add(const RoutingRecord& r) {
    for (int32_t e : r.experts)
        num_experts_ = std::max(num_experts_, static_cast<uint32_t>(e) + 1);
    whole_[r.layer].add(r.experts);
    const int bucket = position_bucket(position_of(r));
    if (bucket < 0)
        ++without_position_;
    else
        buckets_[static_cast<size_t>(bucket)][r.layer].add(r.experts);
    if (r.phase.empty()) {
        ++without_phase_;
        return;
    }
    auto it = std::find_if(phases_.begin(), phases_.end(),
                           [&](const auto& p) { return p.first == r.phase; });
    if (it == phases_.end()) {
        if (phases_.size() == kMaxPhases) {
            ++phases_over_cap_;
            return;
        }
        it = phases_.insert(phases_.end(), {std::string(r.phase), Layers{}});
    }
    it->second[r.layer].add(r.experts);
}

namespace {

std::vector<uint64_t> padded(const std::vector<uint64_t>& v, size_t n) {
    std::vector<uint64_t> out(std::max(n, v.size()), 0);
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

GroupHits summed(const PositionRouting::Layers& layers) {
    GroupHits s;
    for (const auto& [l, g] : layers) {
        s.tokens += g.tokens;
        if (s.hits.size() < g.hits.size()) s.hits.resize(g.hits.size(), 0);
        for (size_t i = 0; i < g.hits.size(); ++i)
            s.hits[i] += g.hits[i];
    }
    return s;
}

GroupFigures figures(std::string_view kind, std::string_view group, int32_t layer,
                     const GroupHits& g, const GroupHits& whole, size_t experts, size_t top) {
    GroupFigures f;
    f.kind = kind;
    f.group = group;
    f.layer = layer;
    f.tokens = g.tokens;
    const std::vector<uint64_t> h = padded(g.hits, experts);
    f.fig = compute_imbalance(h, experts);
    f.js_divergence_bits = js_divergence_bits(h, padded(whole.hits, experts));
    std::vector<int32_t> order(h.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return h[static_cast<size_t>(a)] > h[static_cast<size_t>(b)];
    });
    for (size_t i = 0; i < std::min(top, order.size()); ++i) {
        const uint64_t n = h[static_cast<size_t>(order[i])];
        if (n == 0) break;
        f.top_experts.push_back(
            {order[i], static_cast<double>(n) / static_cast<double>(f.fig.selections)});
    }
    return f;
}

void add_group(std::vector<GroupFigures>& out, std::string_view kind, std::string_view group,
               const PositionRouting::Layers& layers, const PositionRouting& p, size_t experts,
               size_t top) {
    if (layers.empty()) return;
    for (const auto& [l, g] : layers)
        out.push_back(figures(kind, group, l, g, p.whole().at(l), experts, top));
    out.push_back(figures(kind, group, -1, summed(layers), summed(p.whole()), experts, top));
}

}  // namespace

std::vector<GroupFigures> position_figures(const PositionRouting& p, size_t num_experts,
                                           size_t top_experts) {
    const size_t experts = std::max<size_t>(num_experts, p.num_experts());
    std::vector<GroupFigures> out;
    for (int b = 0; b < kPositionBuckets; ++b)
        add_group(out, "position", position_bucket_name(b), p.buckets()[static_cast<size_t>(b)], p,
                  experts, top_experts);
    for (const auto& [name, layers] : p.phases())
        add_group(out, "phase", name, layers, p, experts, top_experts);
    return out;
}

}  // namespace moe
