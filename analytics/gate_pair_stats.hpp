// Aggregated gate-input distances for one pair of consecutive logged layers.
#pragma once

#include <array>
#include <compare>
#include <cstdint>

#include "analytics/gate_metrics.hpp"
#include "analytics/running_stats.hpp"

namespace moe {

// Which tokens a gate aggregate covers: every token, or token index 0 only (the
// reference script's "generated tokens" view).
enum class GateTokens : uint8_t { all, first };

struct GatePairKey {
    GateTokens tokens = GateTokens::all;
    int32_t from_layer = 0;
    int32_t to_layer = 0;
    auto operator<=>(const GatePairKey&) const = default;
};

struct GatePairStats {
    uint64_t pairs = 0;
    std::array<RunningStats, kGateMetricCount> metrics;
    bool dirty = false;

    void add(const GateDistances& d) {
        ++pairs;
        for (size_t i = 0; i < kGateMetricCount; ++i)
            if (d[i] == d[i]) metrics[i].add(d[i]);  // NaN (undefined) is left out
        dirty = true;
    }
    void merge(const GatePairStats& o) {
        pairs += o.pairs;
        for (size_t i = 0; i < kGateMetricCount; ++i)
            metrics[i].merge(o.metrics[i]);
        dirty = true;
    }
};

}  // namespace moe
