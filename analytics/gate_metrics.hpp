// Distances between the gate inputs u (layer L1) and v (layer L2) of one token, as the
// reference gate_input_analysis.py computes them with numpy/scipy.
#pragma once

#include <array>
#include <span>
#include <string_view>

namespace moe {

enum class GateMetric : uint8_t {
    cosine_similarity,  // u.v / (|u| |v|)
    cosine_distance,    // 1 - cosine similarity
    euclidean,          // |u - v|
    l2_normalized,      // |u - v| / sqrt(n)
    l1,                 // sum |u - v|
    pearson,            // Pearson correlation of the components
    max_abs_diff,       // max |u - v|
    mean_abs_diff,      // mean |u - v|
    count_
};
inline constexpr size_t kGateMetricCount = static_cast<size_t>(GateMetric::count_);

constexpr std::string_view gate_metric_name(GateMetric m) {
    constexpr std::array<std::string_view, kGateMetricCount> names = {
        "cosine_similarity", "cosine_distance", "euclidean",    "l2_normalized", "l1",
        "pearson",           "max_abs_diff",    "mean_abs_diff"};
    return names[static_cast<size_t>(m)];
}

using GateDistances = std::array<double, kGateMetricCount>;

// u and v must have the same non-zero length. Undefined metrics (cosine of a zero vector,
// Pearson of a constant vector) are NaN and are left out of aggregates, as the reference does.
GateDistances gate_distances(std::span<const float> u, std::span<const float> v);

}  // namespace moe
