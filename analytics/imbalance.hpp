// The per-layer load figures of docs/FIGURES.md, computed from a hit-count vector over all E
// experts (zeros included). Undefined figures (an empty layer, max/min with a dead expert)
// are NaN or +inf; output code prints them as null.
#pragma once

#include <cstdint>
#include <span>

namespace moe {

struct ImbalanceFigures {
    uint32_t num_experts = 0;  // E
    uint64_t selections = 0;   // S = sum of hits
    uint32_t unique_experts = 0;
    uint32_t dead_experts = 0;  // hits == 0
    double mean = 0;            // S / E
    double median = 0;
    uint64_t min = 0, max = 0;
    int32_t argmin = -1, argmax = -1;  // lowest id among ties
    double std = 0;                    // sample standard deviation (ddof = 1)
    double cv = 0;                     // std / mean
    double gini = 0;                   // sum_i sum_j |h_i - h_j| / (2 E^2 mean)
    double entropy_bits = 0;           // -sum p log2 p, p = h / S
    double entropy_norm = 0;           // entropy / log2 E
    double top5_share = 0;             // fraction of S taken by the 5 busiest experts
    double top10_share = 0;
    double max_over_mean = 0;  // load imbalance factor
    double mean_over_max = 0;  // balancedness
    double max_over_min = 0;   // +inf when an expert is dead
};

// `num_experts` > hits.size() counts the experts beyond the vector as dead (zero hits):
// layers grown before the expert count was known are shorter than E.
ImbalanceFigures compute_imbalance(std::span<const uint64_t> hits, size_t num_experts = 0);

}  // namespace moe
