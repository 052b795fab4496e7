// Router logits and weights of one (tag, layer), when records carry them: per-expert moments
// of the raw logits, and distributions of logits, softmax probabilities, the softmax mass of
// the selected top-k, and the sum of the top-k weights the engine reported.
#pragma once

#include <span>
#include <vector>

#include "analytics/histogram.hpp"
#include "analytics/running_stats.hpp"

namespace moe {

struct LogitStats {
    // Fixed edges (docs/FIGURES.md "Router logits"): additive across nodes and windows.
    static Histogram logit_histogram() { return {-20.0, 20.0, 80}; }  // 0.5 wide
    static Histogram prob_histogram() { return {0.0, 1.0, 50}; }      // 0.02 wide
    static Histogram weight_sum_histogram() {
        return {0.0, 2.0, 40};
    }  // 0.05 wide (scaled gates exceed 1)

    uint64_t records = 0;                         // records that carried logits
    std::vector<RunningStats> per_expert;         // raw logit of expert e over those records
    Histogram logits = logit_histogram();         // every expert's raw logit
    Histogram probs = prob_histogram();           // every expert's softmax probability
    Histogram topk_prob_mass = prob_histogram();  // sum of softmax p over the selected experts
    uint64_t weight_records = 0;                  // records that carried top-k weights
    Histogram topk_weight_sum = weight_sum_histogram();  // sum of the reported top-k weights

    void resize(size_t E) {
        if (per_expert.size() < E) per_expert.resize(E);
    }
    // logits.size() must equal the expert count; experts are the selected ids.
    void add_logits(std::span<const float> logits, std::span<const int32_t> experts,
                    std::vector<double>& scratch);
    void add_weights(std::span<const float> weights);
    void merge(const LogitStats& o);
    bool empty() const { return records == 0 && weight_records == 0; }
};

}  // namespace moe
