// Detects a known defect of the llama-server logging patch: in a batch of more than one
// token, the ids for tokens > 0 come from a strided view read as contiguous, so the first
// E/k lines of such a batch together list every expert exactly once (one token's full
// ranking). A batch is a run of consecutive records of one layer in one stream. Honest
// routing almost never does that; when most checked batches do, the per-token routing of
// multi-token batches in that log cannot be trusted (counts of single-token generation are
// unaffected).
#pragma once

#include <cstdint>
#include <optional>
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
    // The last record's row in its batch (1: the first) and the E its batch is checked with.
    size_t row() const { return run_; }
    // Whether the current batch repeats an id within its first E/k rows (E/k rounded down):
    // the defect never does (those rows are slices of one token's ranking), so this proves
    // the stream honest, also in batches too short to check and when k does not divide E.
    bool repeats_within_ranking() const { return duplicate_; }
    uint32_t batch_experts() const { return experts_; }
    // Parallel ingest: whether `chunk`'s first record continues this state's batch (the same
    // layer, no stream restart in between), so it is not row 1 for one pass.
    bool continued_by(const StridedBatchCheck& chunk) const;
    void new_stream() {
        layer_ = -1;
        if (opening_) opening_->add_stream_start();
    }
    void save(StateWriter& w) const;
    // `with_limit`: a checkpoint written since limit_ and out_of_range_ exist ("MSS4").
    bool restore(StateReader& r, bool with_limit);

    // Parallel ingest (ingest/chunk_chain.hpp). A chunk's check starts fresh and records how
    // the chunk opens: its first kOpeningEvents records with the E each was checked with.
    // One pass differs from the chunk only until a batch starts with the E one pass has
    // (an E it learnt before the chunk can be larger than the chunk's own so far); followed_by
    // replays that opening after this (one pass's) state.
    static constexpr size_t kOpeningEvents = 4096;
    void record_opening();
    struct Followed;
    // nullopt: the recorded opening is too short to tell (one pass must read the chunk).
    std::optional<Followed> followed_by(const StridedBatchCheck& chunk,
                                        uint32_t experts_before) const;

  private:
    int32_t layer_ = -1;
    size_t run_ = 0;   // records in the current batch
    size_t need_ = 0;   // E / k for this batch (0: not checkable)
    size_t limit_ = 0;  // E / k rounded down (0: under 2): the rows marked
    bool duplicate_ = false;     // an id twice within the first limit_ rows
    bool out_of_range_ = false;  // an id >= the E the batch started with
    size_t covered_ = 0;
    std::vector<uint8_t> seen_;
    std::vector<int32_t> first_;  // the batch's first record
    uint32_t experts_ = 0;        // E when the batch started

    struct Opening {
        Opening() {}  // user-provided: clang deems a nested NSDMI struct unconstructible
        struct Event {
            int32_t layer = -1;  // -1: the stream restarted
            uint32_t experts = 0;
            uint32_t begin = 0, count = 0;  // in ids
        };
        std::vector<Event> events;
        std::vector<int32_t> ids;
        bool complete = true;  // every event of the chunk is here
        void add_stream_start() { add(-1, {}, 0); }
        void add(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts);
    };
    std::optional<Opening> opening_;

    int check(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts);
    void mark(std::span<const int32_t> experts);
};

struct StridedBatchCheck::Followed {
    StridedBatchCheck state;  // one pass's, after the chunk
    int64_t checked = 0;      // add these to the chunk's batches_checked
    int64_t strided = 0;      // ... and to its batches_strided
};

}  // namespace moe
