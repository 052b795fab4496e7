// Pairs the gate inputs of the same token in the same forward pass between a layer and the
// nearest logged layer below it. The stream has no pass markers: as in the real log, a new
// forward pass shows as the gate layer number dropping back.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
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
        if (opening_) opening_->touched = true;
    }

    // Parallel ingest (ingest/chunk_chain.hpp). A chunk's pairer starts fresh and keeps the
    // vectors of its first pass whose token it had not seen yet: only those can pair with
    // what one pass would have had waiting from before the chunk.
    void record_opening();
    // Whether one pass, holding this state before `chunk` (recorded opening), would have
    // paired and dropped exactly what the chunk did plus the pairs follow() adds.
    bool can_follow(const GatePairer& chunk) const;
    // Becomes one pass's state after `chunk`, whose aggregates `chunk_agg` were just appended
    // to `agg`, and adds to `agg` the pairs that span the chunk's start.
    void follow(const GatePairer& chunk, const Aggregates& chunk_agg, Aggregates& agg);

  private:
    struct Pending {
        int32_t layer = -1;
        uint64_t pass = 0;
        TagId tag = kAllTag;
        std::vector<float> values;
    };
    struct Opening {
        Opening() {}           // user-provided: clang deems a nested NSDMI struct unconstructible
        bool touched = false;  // a vector or a restart came after record_opening()
        bool first_is_vector = false;
        int32_t first_layer = -1;  // of the first vector, when it came first
        bool cleared = false;      // more than kMaxPendingTokens tokens waited
        std::vector<std::pair<int64_t, Pending>> firsts;  // first pass, tokens new to the chunk
    };
    std::unordered_map<int64_t, Pending> by_token_;
    int32_t last_layer_ = -1;
    uint64_t pass_ = 0;
    std::optional<Opening> opening_;

    static void pair(TagId tag, const Pending& from, int32_t layer, int64_t token,
                     std::span<const float> values, Aggregates& agg);
};

}  // namespace moe
