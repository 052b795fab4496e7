// Comparing the routing of two tags (prompt classes): per layer, the Jensen-Shannon
// divergence in bits between their share vectors, and per expert the share ratio and
// difference, to answer "which experts does Korean text lean on".
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analytics/aggregates.hpp"

namespace moe {

struct ExpertShareDiff {
    int32_t expert = 0;
    double share_a = 0, share_b = 0;
    double ratio = 0;  // share_a / share_b; +inf when only A uses the expert, NaN when neither
    double diff = 0;   // share_a - share_b
};

struct LayerComparison {
    int32_t layer = -1;  // -1: all layers combined
    uint64_t tokens_a = 0, tokens_b = 0;
    double js_divergence_bits = 0;         // 0 = identical, 1 = disjoint
    std::vector<ExpertShareDiff> experts;  // by |diff| descending
};

// JS(p, q) = (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2, log base 2; from counts.
double js_divergence_bits(std::span<const uint64_t> a, std::span<const uint64_t> b);

// Experts 0..E-1 of count vectors `a` and `b`, by |share_a - share_b| descending (ties:
// expert order); `compare` lists them per layer, `drift` its movers.
std::vector<ExpertShareDiff> share_diffs(std::span<const uint64_t> a, std::span<const uint64_t> b,
                                         size_t num_experts);

// Layers present in both tags, then all layers combined (layer -1).
std::vector<LayerComparison> compare_tags(const TagStats& a, const TagStats& b, size_t num_experts);

}  // namespace moe
