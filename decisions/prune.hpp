// Pruning what-if: per layer the experts to keep under a rule, and what dropping the rest
// would have cost on the recorded tokens (docs/FIGURES.md "Pruning").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "analytics/aggregates.hpp"
#include "decisions/coverage.hpp"
#include "decisions/routing_sequence.hpp"

namespace moe {

enum class PruneRule { keep_coverage, keep_count, drop_below };

struct PruneSpec {
    PruneRule rule = PruneRule::keep_coverage;
    double value = 0.95;  // the share, the count N, or the share threshold
    Weighting by = Weighting::hits;
};

// Layer -> keep mask (true: kept), one entry per expert.
using KeepList = std::map<int32_t, std::vector<bool>>;

// The experts of one (tag, layer) the rule keeps; throws std::invalid_argument for
// --by mass when the layer's records carried no weights.
std::vector<bool> keep_mask(const LayerStats& l, size_t E, const PruneSpec& spec, int32_t layer);

// For every layer with records (tag "all"): the union over `tags` of each tag's keep mask,
// so the list reaches the rule's target for every tag given.
KeepList plan_keep_list(const Aggregates& agg, const std::vector<TagId>& tags,
                        const PruneSpec& spec);

struct DropCost {
    uint64_t tokens = 0, selections = 0, dropped_selections = 0;
    bool tokens_known = true;  // false: engine totals without k (LayerStats::tokens_known)
    double mass = 0, dropped_mass = 0;
    bool weighted = false;
    // Records with at least one / all of their experts dropped; nullopt when unknown.
    std::optional<uint64_t> tokens_any, tokens_all;

    double selection_share() const;
    double mass_share() const;  // NaN without weights
    std::optional<double> any_share() const;
    std::optional<double> all_share() const;
    void add(const DropCost& o);  // pooling layers
};

// Selection and mass shares from the totals; the token counts too when they are exact
// there: k = 1 (from hits) or k = 2 (from the co-occurrence counts), else nullopt.
DropCost drop_cost(const LayerStats& l, const std::vector<bool>& keep);

// Token counts from the recorded sequence: per layer {any, all} for records in `tag`.
std::map<int32_t, std::pair<uint64_t, uint64_t>> token_drops(const RoutingSequence& seq, TagId tag,
                                                             const KeepList& keep);

}  // namespace moe
