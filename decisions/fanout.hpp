// All-to-all fan-out of a placement: how many GPUs a token's top-k experts make it visit
// (docs/FIGURES.md "Placement", fan-out). Needs each token's expert set, so it is computed
// on the recorded sequence of FILE arguments.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "decisions/routing_sequence.hpp"

namespace moe {

// Which GPUs hold each expert under a placement (phy2log, slots / gpus per GPU).
class GpuIndex {
  public:
    GpuIndex(std::span<const int32_t> phy2log, size_t gpus, size_t experts);
    // The fewest GPUs whose slots together hold every expert of `k` (a token may use any
    // replica); experts the placement does not hold are ignored.
    size_t min_gpus(std::span<const int32_t> k) const;
    size_t slots_per_gpu() const { return per_gpu_; }

  private:
    std::vector<std::vector<uint32_t>> gpus_of_;  // per expert, ascending, distinct
    size_t per_gpu_ = 1;
};

struct Fanout {
    uint64_t tokens = 0;
    uint64_t gpus = 0;            // sum over tokens of min_gpus
    uint64_t excess = 0;          // tokens with min_gpus > ceil(k / slots per GPU)
    double mean_gpus() const;     // NaN without tokens
    double excess_share() const;  // NaN without tokens
};

// Per layer of `index`, over the records of `tag` in the sequence (one pass).
std::map<int32_t, Fanout> fanout(const RoutingSequence& seq, TagId tag,
                                 const std::map<int32_t, GpuIndex>& index);

}  // namespace moe
