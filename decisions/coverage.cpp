#include "decisions/coverage.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "analytics/no_data_error.hpp"

namespace moe {

void throw_no_mass(int32_t layer) {
    throw NoDataError("--by mass: layer " + std::to_string(layer) +
                      " has no routing weights recorded (use --by hits)");
}

std::vector<double> expert_weights(const LayerStats& l, Weighting by) {
    if (by == Weighting::hits) return {l.hits.begin(), l.hits.end()};
    if (l.weighted_tokens == 0) return {};
    std::vector<double> w(l.hits.size(), 0.0);
    std::copy_n(l.weight_mass.begin(), std::min(w.size(), l.weight_mass.size()), w.begin());
    return w;
}

std::vector<uint32_t> rank_experts(std::span<const double> w) {
    std::vector<uint32_t> order(w.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return w[a] > w[b]; });
    return order;
}

std::vector<double> coverage_curve(std::span<const double> w, std::span<const uint32_t> order) {
    // Summed in rank order, so the last point is exactly 1.
    std::vector<double> cum(order.size());
    double s = 0;
    for (size_t i = 0; i < order.size(); ++i)
        cum[i] = s += w[order[i]];
    if (!(s > 0)) return {};
    for (double& c : cum)
        c /= s;
    return cum;
}

size_t experts_for_share(std::span<const double> curve, double p) {
    for (size_t n = 0; n < curve.size(); ++n)
        if (curve[n] >= p) return n + 1;
    return curve.size();
}

namespace {
std::optional<CoverageSide> side(const LayerStats& l, Weighting by) {
    const auto w = expert_weights(l, by);
    if (w.empty()) return std::nullopt;
    CoverageSide s;
    s.order = rank_experts(w);
    s.curve = coverage_curve(w, s.order);
    if (s.curve.empty()) return std::nullopt;
    for (size_t i = 0; i < kCoverageLevels.size(); ++i)
        s.needed[i] = experts_for_share(s.curve, kCoverageLevels[i]);
    return s;
}
}  // namespace

LayerCoverage layer_coverage(const TagStats& tag, int32_t layer) {
    LayerCoverage c;
    c.layer = layer;
    c.tag = tag.name;
    const LayerStats* l = tag.layer(layer);
    if (!l) return c;
    if (l->tokens_known()) c.tokens = l->tokens;
    c.selections = l->selections();
    if (auto s = side(*l, Weighting::hits)) c.hits = std::move(*s);
    c.mass = side(*l, Weighting::mass);
    return c;
}

}  // namespace moe
