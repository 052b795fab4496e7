// Figures derived from co-occurrence counts (docs/FIGURES.md): for a pair a < b with count C,
// P(b|a) = C / h_a, Jaccard = C / (h_a + h_b - C), lift = C T / (h_a h_b).
#pragma once

#include <cstdint>
#include <vector>

#include "analytics/layer_stats.hpp"

namespace moe {

struct CoocPair {
    int32_t a = 0, b = 0;  // a < b
    uint64_t count = 0;
    double p_b_given_a = 0, p_a_given_b = 0, jaccard = 0, lift = 0;  // NaN when undefined
};

enum class CoocOrder { count, lift, jaccard };

// Every pair with count > 0, ordered by `order` descending (ties: a, then b).
std::vector<CoocPair> cooc_pairs(const LayerStats& l, CoocOrder order);

}  // namespace moe
