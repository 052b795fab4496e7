// What a reference distribution is fitted to (docs/FIGURES.md "Reference distributions"):
// per record, the K-th largest routing weight or logit, the values left after trimming the
// T largest and T smallest, or the value of one expert (the reference's P-th most selected).
// Shared by `moescope kde` (a recorded sequence) and the daemon's live test (one record at
// a time). Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decisions/routing_sequence.hpp"

namespace moe {

struct KdeQuantity {
    enum class Kind : uint8_t { rank, trimmed, popular };
    Kind kind = Kind::rank;
    uint32_t n = 1;       // K, T or P, from 1
    bool logits = false;  // the record's full router logits instead of its top-k weights

    // "top1_weight", "trim2_weights", "popular3_weight", "top1_logit", "trim2_logits",
    // "popular3_logit": the `value` stored with a fit.
    std::string name() const;
    static std::optional<KdeQuantity> parse(std::string_view name);
};

// Appends the values of one record to `out`. `experts` and `weights` are its top-k ids and
// weights (weights may be empty), `logits` its full router logits (may be empty); `expert`
// is the popular expert (Kind::popular only). Nothing is appended when the record lacks the
// values: fewer than K, no more than 2T, or (weights) the expert not among its top-k.
void kde_values_of(const KdeQuantity& q, std::span<const int32_t> experts,
                   std::span<const float> weights, std::span<const float> logits, int32_t expert,
                   std::vector<float>& scratch, std::vector<double>& out);

// Per layer, the P-th most selected expert of `tag`'s records (ties: the lower id); layers
// where fewer than P experts were ever selected have none.
std::map<int32_t, int32_t> popular_experts(const RoutingSequence& seq, TagId tag, uint32_t p);

// Per layer, the values of every record of `tag` (kde_values_of); `experts` gives the
// popular expert of each layer (Kind::popular; layers without one have no values).
std::map<int32_t, std::vector<double>> kde_values(const RoutingSequence& seq, TagId tag,
                                                  const KdeQuantity& q,
                                                  const std::map<int32_t, int32_t>& experts);

}  // namespace moe
