// Routing by token position and by phase (docs/FIGURES.md "Positions"): per position bucket
// (tracing/position_bucket.hpp) and per phase, each layer's hit counts, and the layer figures
// of analytics/imbalance.hpp and analytics/tag_compare.hpp computed from them, against the
// layer's whole. Memory: E counters per (group, layer).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analytics/imbalance.hpp"
#include "parsers/record.hpp"
#include "tracing/position_bucket.hpp"

namespace moe {

struct GroupHits {
    uint64_t tokens = 0;
    std::vector<uint64_t> hits;  // per expert (shorter than E: the rest is 0)
    void add(std::span<const int32_t> experts);
};

class PositionRouting {
  public:
    static constexpr size_t kMaxPhases = 64;  // more distinct phases are not grouped

    void add(const RoutingRecord& r);

    using Layers = std::map<int32_t, GroupHits>;
    const Layers& whole() const { return whole_; }
    const std::array<Layers, kPositionBuckets>& buckets() const { return buckets_; }
    // By phase, in order of first appearance.
    const std::vector<std::pair<std::string, Layers>>& phases() const { return phases_; }
    uint64_t without_position() const { return without_position_; }
    uint64_t without_phase() const { return without_phase_; }
    // Records whose phase came after kMaxPhases others: in the whole, in no phase group.
    uint64_t phases_over_cap() const { return phases_over_cap_; }
    // Largest id + 1.
    uint32_t num_experts() const { return num_experts_; }

  private:
    Layers whole_;
    std::array<Layers, kPositionBuckets> buckets_;
    std::vector<std::pair<std::string, Layers>> phases_;
    uint64_t without_position_ = 0, without_phase_ = 0, phases_over_cap_ = 0;
    uint32_t num_experts_ = 0;
};

struct ExpertShare {
    int32_t expert = 0;
    double share = 0;
};

struct GroupFigures {
    std::string kind;    // "position" or "phase"
    std::string group;   // the bucket ("0", "1-15", ...) or the phase
    int32_t layer = -1;  // -1: all layers' hits summed
    uint64_t tokens = 0;
    ImbalanceFigures fig;           // gini, entropy_bits, ... over E experts
    double js_divergence_bits = 0;  // against the layer's whole (every record of the layer)
    std::vector<ExpertShare> top_experts;
};

// Buckets in order, then phases; per group its layers ascending, then layer -1. E is
// max(num_experts, the ids seen).
std::vector<GroupFigures> position_figures(const PositionRouting& p, size_t num_experts = 0,
                                           size_t top_experts = 5);

}  // namespace moe
