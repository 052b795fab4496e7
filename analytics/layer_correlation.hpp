// Layer correlation (the transformers research tool's figure): a_l[e] = h_{l,e} / T_l and
// r(l, delta) = Pearson(a_l, a_{l+delta}) over experts, pairing layers by number and
// skipping pairs where either layer is absent. The periodic summary of a delta is the mean
// and population std (ddof = 0) of r(l, delta) over l.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analytics/aggregates.hpp"

namespace moe {

struct LayerCorrelation {
    int32_t layer = 0;
    int32_t delta = 0;
    double r = 0;  // NaN when a layer's load is constant over experts
};

struct PeriodicSummary {
    int32_t delta = 0;
    double mean = 0, std = 0;  // over the defined r(l, delta)
    size_t n = 0;
};

double pearson(std::span<const double> x, std::span<const double> y);
std::vector<LayerCorrelation> layer_correlations(const TagStats& tag, size_t num_experts,
                                                 int32_t delta_max);
PeriodicSummary periodic_summary(const std::vector<LayerCorrelation>& rs, int32_t delta);

}  // namespace moe
