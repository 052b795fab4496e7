#include "analytics/logit_stats.hpp"

#include <algorithm>
#include <cmath>

namespace moe {

void LogitStats::add_logits(std::span<const float> lg, std::span<const int32_t> experts,
                            std::vector<double>& p) {
    ++records;
    resize(lg.size());
    double m = -INFINITY;
    for (size_t e = 0; e < lg.size(); ++e) {
        per_expert[e].add(lg[e]);
        logits.add(lg[e]);
        m = std::max(m, static_cast<double>(lg[e]));
    }
    p.resize(lg.size());
    double z = 0;
    for (size_t e = 0; e < lg.size(); ++e)
        z += (p[e] = std::exp(static_cast<double>(lg[e]) - m));
    for (size_t e = 0; e < lg.size(); ++e)
        probs.add(p[e] /= z);
    double mass = 0;
    for (int32_t e : experts)
        mass += p[static_cast<size_t>(e)];
    topk_prob_mass.add(mass);
}

void LogitStats::add_weights(std::span<const float> weights) {
    ++weight_records;
    double s = 0;
    for (float w : weights)
        s += w;
    topk_weight_sum.add(s);
}

void LogitStats::merge(const LogitStats& o) {
    records += o.records;
    weight_records += o.weight_records;
    resize(o.per_expert.size());
    for (size_t e = 0; e < o.per_expert.size(); ++e)
        per_expert[e].merge(o.per_expert[e]);
    logits.merge(o.logits);
    probs.merge(o.probs);
    topk_prob_mass.merge(o.topk_prob_mass);
    topk_weight_sum.merge(o.topk_weight_sum);
}

}  // namespace moe
