// Coverage: how many experts of a layer carry a given share of its selections or of its
// gate-weight mass (docs/FIGURES.md "Coverage").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"

namespace moe {

// The shares `coverage` reports experts_for_coverage for.
inline constexpr std::array<double, 5> kCoverageLevels = {0.5, 0.8, 0.9, 0.95, 0.99};

enum class Weighting { hits, mass };

// Per-expert weight of `by`: h_e or the weight mass (empty for mass when no record of the
// layer carried weights).
std::vector<double> expert_weights(const LayerStats& l, Weighting by);
// --by mass on a layer whose records carried no weights: NoDataError (exit 3), one message
// for every decision that weighs by mass.
[[noreturn]] void throw_no_mass(int32_t layer);
// Expert ids sorted by weight descending, ties by id ascending.
std::vector<uint32_t> rank_experts(std::span<const double> w);
// curve[n-1] = share of the n first experts of `order`; empty when the total is 0.
std::vector<double> coverage_curve(std::span<const double> w, std::span<const uint32_t> order);
// Smallest n with curve[n-1] >= p (0 for an empty curve).
size_t experts_for_share(std::span<const double> curve, double p);

struct CoverageSide {
    std::vector<uint32_t> order;  // experts, heaviest first
    std::vector<double> curve;    // cumulative share
    std::array<size_t, kCoverageLevels.size()> needed{};
};

struct LayerCoverage {
    int32_t layer = -1;
    std::string tag;
    std::optional<uint64_t> tokens;  // none: engine totals without a token count
    uint64_t selections = 0;
    CoverageSide hits;
    std::optional<CoverageSide> mass;  // only when the layer's records carried weights
};

LayerCoverage layer_coverage(const TagStats& tag, int32_t layer);

}  // namespace moe
