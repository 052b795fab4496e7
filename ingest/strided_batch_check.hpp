// Detects a known defect of the llama-server logging patch: in a batch of more than one
// token, the ids for tokens > 0 come from a strided view read as contiguous, so the first
// E/k lines of such a batch together list every expert exactly once (one token's full
// ranking). A batch is a run of consecutive records of one layer in one stream. Honest
// routing almost never does that; when most checked batches do, the per-token routing of
// multi-token batches in that log cannot be trusted (counts of single-token generation are
// unaffected).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "parsers/record.hpp"
#include "parsers/state_codec.hpp"

namespace moe {

class StridedBatchCheck {
  public:
    // Feeds one routing record of the stream; E is the model's expert count so far.
    // Returns +1 when a batch was just checked and looks defective, 0 when it was checked
    // and looks fine, -1 when nothing was decided.
    // Inline, and a new batch costs a copy of its first record: it runs for every record,
    // and most batches are one token long (BENCHMARKS.md "Data-quality policy").
    int add(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts) {
        if (opening_) [[unlikely]]
            opening_->add(layer, experts, num_experts);
        if (layer == layer_) return continue_batch(experts);
        start_batch(layer, experts, num_experts);
        return -1;
    }
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
    size_t run_ = 0;             // records in the current batch
    size_t need_ = 0;            // E / k for this batch (0: not checkable)
    size_t limit_ = 0;           // E / k rounded down (0: under 2): the rows marked
    bool duplicate_ = false;     // an id twice within the first limit_ rows
    bool out_of_range_ = false;  // an id >= the E the batch started with
    size_t covered_ = 0;
    // The ids marked in this batch, one bit each (ids are validated <= kMaxExpert): a mark
    // is a few branch-free operations, and a batch clears only the words it used.
    std::array<uint64_t, (kMaxExpert + 64) / 64> seen_{};
    size_t seen_words_ = 0;                  // words that may hold a bit
    std::array<int32_t, kMaxTopK> first_{};  // the batch's first record: first_k_ ids
    size_t first_k_ = 0;
    uint32_t experts_ = 0;  // E when the batch started
    size_t limit_k_ = 0;    // the (k, E) that limit_ and need_ were computed for
    uint32_t limit_e_ = 0;

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

    int check(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts) {
        if (layer == layer_) return continue_batch(experts);
        start_batch(layer, experts, num_experts);
        return -1;
    }
    // A new batch. Most are one token long (generation), so only its first record is
    // remembered; the per-expert marks are set up when a second record arrives.
    void start_batch(int32_t layer, std::span<const int32_t> experts, uint32_t num_experts) {
        layer_ = layer;
        run_ = 1;
        const size_t k = experts.size();
        if (k != limit_k_ || num_experts != limit_e_) [[unlikely]]
            set_limits(k, num_experts);
        first_k_ = std::min(k, first_.size());
        if (k == 8)  // the usual k: a copy of constant size is two moves, not a memmove call
            std::memcpy(first_.data(), experts.data(), 8 * sizeof(int32_t));
        else
            std::copy_n(experts.begin(), first_k_, first_.begin());
        experts_ = num_experts;
        duplicate_ = false;
    }
    void set_limits(size_t k, uint32_t num_experts);
    int continue_batch(std::span<const int32_t> experts);
    void mark(std::span<const int32_t> experts);
};

struct StridedBatchCheck::Followed {
    StridedBatchCheck state;  // one pass's, after the chunk
    int64_t checked = 0;      // add these to the chunk's batches_checked
    int64_t strided = 0;      // ... and to its batches_strided
};

}  // namespace moe
