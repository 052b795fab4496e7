// Detects a known defect of the llama-server logging patch: in a batch of more than one
// token, the ids for tokens > 0 come from a strided view read as contiguous, so the first
// E/k lines of such a batch together list every expert exactly once (one token's full
// ranking). A batch is a run of consecutive records of one layer in one stream. Honest
// routing almost never does that; when most checked batches do, the per-token routing of
// multi-token batches in that log cannot be trusted (counts of single-token generation are
// unaffected).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "parsers/state_codec.hpp"

namespace moe {

class StridedBatchCheck {
  public:
    // Feeds one routing record of the stream; E is the model's expert count so far.
    // Returns +1 when a batch was just checked and looks defective, 0 when it was checked
    // and looks fine, -1 when nothing was decided.
    int add(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts);
    void new_stream() { layer_ = -1; }
    void save(StateWriter& w) const;
    bool restore(StateReader& r);

  private:
    int32_t layer_ = -1;
    size_t run_ = 0;   // records in the current batch
    size_t need_ = 0;  // E / k for this batch (0: not checkable)
    bool duplicate_ = false;
    size_t covered_ = 0;
    std::vector<uint8_t> seen_;
    std::vector<int32_t> first_;  // the batch's first record
    uint32_t experts_ = 0;        // E when the batch started

    void mark(std::span<const int32_t> experts);
};

}  // namespace moe
