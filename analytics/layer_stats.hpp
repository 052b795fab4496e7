// Everything counted for one (tag, layer): the additive state behind every routing figure.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analytics/ema_vector.hpp"

namespace moe {

struct LayerStats {
    uint64_t tokens = 0;              // T: routing records
    uint32_t top_k = 0;               // k of the first record (0: none yet)
    std::vector<uint64_t> hits;       // h_e, one per expert
    EmaVector ema;                    // see ema_vector.hpp
    std::vector<double> weight_mass;  // sum of routing weights given to e
    uint64_t weighted_tokens = 0;     // records that carried weights
    bool dirty = false;               // changed since the last save

    size_t num_experts() const { return hits.size(); }

    // Grows the per-expert vectors to E entries (never shrinks).
    void resize(size_t E);

    // Counts one validated record; ids must be < num_experts().
    void add(std::span<const int32_t> experts, std::span<const float> weights, double decay);

    // Adds another node's counts (EMA values are added, see merge docs in README).
    void merge(const LayerStats& o);
};

}  // namespace moe
