// Pairs the gate inputs of the same token in the same forward pass between a layer and the
// nearest logged layer below it. The stream has no pass markers: as in the real log, a new
// forward pass shows as the gate layer number dropping back.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "analytics/aggregates.hpp"
#include "parsers/state_codec.hpp"

namespace moe {

class GatePairer {
  public:
    // At most this many tokens wait for their next layer; beyond it the oldest pass is dropped.
    static constexpr size_t kMaxPendingTokens = 16384;

    void add(TagId tag, const GateRecord& g, Aggregates& agg);
    // Checkpoint of the vectors waiting for their next layer (tags by name).
    void save(StateWriter& w, const Aggregates& agg) const;
    bool restore(StateReader& r, Aggregates& agg);

    // The stream restarted (llama-server header, truncation, rotation): nothing pairs across.

    void new_stream() {
        ++pass_;
        last_layer_ = -1;
    }

  private:
    struct Pending {
        int32_t layer = -1;
        uint64_t pass = 0;
        TagId tag = kAllTag;
        std::vector<float> values;
    };
    std::unordered_map<int64_t, Pending> by_token_;
    int32_t last_layer_ = -1;
    uint64_t pass_ = 0;
};

}  // namespace moe
