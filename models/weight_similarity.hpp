// Similarity of router and expert weights (docs/FIGURES.md "Weights"):
//   router: for layers l, l' the cosine of the flattened router matrices, the mean over
//     experts of the cosine of their router rows, and the Pearson correlation of the
//     per-expert row norms; and each figure's mean over layer pairs at distance delta.
//   experts: within a layer, the cosine of two experts' flattened weights (gate, up and down
//     concatenated); across layers, the cosine of expert e at l and at l + delta.
// Expert weights are streamed in row chunks per layer with one Gram matrix per thread, so
// memory stays near one layer's tensors whatever the model size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "models/moe_model.hpp"

namespace moe::models {

struct RouterDelta {
    int32_t delta = 0;
    size_t pairs = 0;  // layer pairs (l, l + delta) with a defined flattened cosine
    double cosine = 0, row_cosine = 0, row_norm_correlation = 0;  // means; NaN: no pairs
};

struct RouterSimilarity {
    std::vector<int32_t> layers;  // MoE layer numbers, ascending
    // layer x layer, in the order of `layers`; NaN where undefined (shapes differ, zero norm).
    Eigen::MatrixXd cosine, row_cosine, row_norm_correlation;
    uint64_t bytes = 0;  // router bytes read
};

RouterSimilarity router_similarity(const MoeModel& m);
// Means over the pairs of layers `delta` apart (by layer number).
RouterDelta router_delta(const RouterSimilarity& r, int32_t delta);

struct ExpertPair {
    int32_t layer = 0, a = 0, b = 0;  // a < b
    double cosine = 0;
};

struct LayerExperts {
    int32_t layer = 0;
    double mean_cosine = 0, max_cosine = 0;  // over pairs a < b
};

inline constexpr size_t kCosineBins = 20;  // histogram of cosines over [-1, 1]
struct CrossLayerDelta {
    int32_t delta = 0;
    size_t n = 0;  // (layer, expert) pairs compared
    double mean = 0, median = 0;
    std::vector<uint64_t> histogram = std::vector<uint64_t>(kCosineBins);
};

struct ExpertSimilarity {
    std::vector<ExpertPair> similar_pairs;  // most similar first, over all layers
    std::vector<LayerExperts> layers;
    std::vector<CrossLayerDelta> cross;   // one per requested delta
    std::vector<Eigen::MatrixXd> cosine;  // per layer (order of `layers`): expert x expert
    uint64_t bytes = 0;                   // expert weight bytes read (a re-read counts again)
};

struct ExpertOptions {
    size_t top = 10;                    // similar_pairs kept
    std::vector<int32_t> deltas = {1};  // cross-layer distances
    unsigned threads = 0;               // 0: every core
    // Called after each unit of work with (done, total) units.
    std::function<void(size_t, size_t)> progress;
};

// Why the expert weights cannot be compared ("" when they can): missing tensors, unequal
// expert counts, or a tensor type the converter does not support.
std::string expert_weights_problem(const MoeModel& m);

ExpertSimilarity expert_similarity(const MoeModel& m, const ExpertOptions& o);

}  // namespace moe::models
