#include "analytics/layer_stats.hpp"

#include <algorithm>

namespace moe {

void LayerStats::resize(size_t E) {
    if (E <= hits.size()) return;
    hits.resize(E, 0);
    ema.resize(E);
    weight_mass.resize(E, 0.0);
}

void LayerStats::add(std::span<const int32_t> experts, std::span<const float> weights,
                     double decay) {
    ++tokens;
    if (top_k == 0) top_k = static_cast<uint32_t>(experts.size());
    for (int32_t e : experts)
        ++hits[static_cast<size_t>(e)];
    ema.update(experts, decay);
    if (!weights.empty()) {
        ++weighted_tokens;
        for (size_t i = 0; i < experts.size(); ++i)
            weight_mass[static_cast<size_t>(experts[i])] += static_cast<double>(weights[i]);
    }
    dirty = true;
}

void LayerStats::merge(const LayerStats& o) {
    resize(o.num_experts());
    tokens += o.tokens;
    if (top_k == 0) top_k = o.top_k;
    weighted_tokens += o.weighted_tokens;
    std::vector<double> ema_sum = ema.values();
    ema_sum.resize(num_experts(), 0.0);
    const std::vector<double> other_ema = o.ema.values();
    for (size_t e = 0; e < o.num_experts(); ++e) {
        hits[e] += o.hits[e];
        weight_mass[e] += o.weight_mass[e];
        ema_sum[e] += other_ema[e];
    }
    ema.assign(ema_sum, ema.norm() + o.ema.norm());
    dirty = true;
}

}  // namespace moe
