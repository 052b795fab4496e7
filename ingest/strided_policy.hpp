// What a stream's strided-view verdict does to its records (docs/FIGURES.md "Data quality").
// The patched llama-server writes every row after the first of a multi-token batch from the
// wrong view, in every such batch once it has the defect; StridedBatchCheck sees it in the
// batches long enough to show (E/k rows). Per stream (a llama-server header, truncation or
// rotation starts over), the verdict is:
//   undecided  from the first row 2 of a batch on, every routing record is held (in order,
//              so counting order never changes);
//   clean      after the first checked batch that is not strided, or the first batch that
//              repeats an id within its first E/k rows (the defect never does): everything
//              counts;
//   defective  once the chance that honest routing shows the pattern in every batch checked
//              so far is below 1e-6 (one batch when E/k >= 5, three for Mixtral's 8 / 2):
//              rows 2.. of every batch are left out, also of batches too short to check,
//              until a batch repeats an id within its first E/k rows (contradicted()): the
//              defect never does and shows in every batch, so from there on the stream is
//              clean again (what was left out stays out). Three planted batches cannot drop
//              the rest of a clean log.
// The stream's end, a restart (new_stream(); held rows must be settled first), or kMaxHeld held
// rows decide an undecided stream with what was checked (defective only if batches were checked and
// all of them were strided). Held rows are then counted in order or left out. Saved in the stream
// checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ingest/held_record.hpp"

namespace moe {

class StridedPolicy {
  public:
    enum class Verdict : uint8_t { undecided = 0, clean = 1, defective = 2 };
    static constexpr size_t kMaxHeld = 4096;
    static constexpr double kMaxChance = 1e-6;

    Verdict verdict() const { return verdict_; }
    // A batch of `experts` ids per row, of a model with `num_experts`, was checked.
    // true when this decided the stream.
    bool checked(bool strided, uint32_t num_experts, size_t k);
    // A batch repeated an id within its first E/k rows, which the defect never does
    // (StridedBatchCheck::repeats_within_ranking): true when this decided the stream clean.
    bool repeated() {
        if (verdict_ != Verdict::undecided) return false;
        verdict_ = Verdict::clean;
        return true;
    }
    // A batch that repeats an id in its first E/k rows while defective: the defect is not
    // (or no longer) there; clean from here on. Not a batch that merely fails to cover E: with
    // E still growing that may be the check's E, not the data. True when this changed the
    // verdict.
    bool contradicted() {
        if (verdict_ != Verdict::defective) return false;
        verdict_ = Verdict::clean;
        if (assumed_ && !restarted_) flipped_ = true;
        return true;
    }
    // Decides an undecided stream with what was checked; true when it was undecided.
    bool decide_now();
    // A held record, and whether it is a row after its batch's first.
    struct Held {
        HeldRecord record;
        bool later_row = false;
    };
    void hold(HeldRecord r, bool later_row) { held_.push_back({std::move(r), later_row}); }
    size_t held_count() const { return held_.size(); }
    std::vector<Held> take_held() {
        std::vector<Held> v = std::move(held_);
        held_.clear();
        return v;
    }
    bool holding() const { return !held_.empty(); }
    // Undecided with strided batches seen: a restart would decide it "defective".
    bool leaning_defective() const { return verdict_ == Verdict::undecided && strided_ > 0; }
    // Parallel ingest (ingest/chunk_chain.hpp): a chunk starts as if the stream before it had
    // reached `assumed` (the verdict the input's first chunk reached) and notes whether what
    // it counted depended on that before its first restart.
    void assume(Verdict assumed) {
        verdict_ = assumed;
        assumed_ = assumed;
    }
    // A row after the first of a batch: what happens to it depends on the verdict.
    void saw_later_row() {
        if (assumed_ && !restarted_) depended_ = true;
    }
    // A new stream, from a fresh verdict; a chunk keeps what it assumed and depended on.
    void new_stream() {
        StridedPolicy fresh;
        fresh.assumed_ = assumed_;
        fresh.depended_ = depended_;
        fresh.restarted_ = assumed_.has_value();
        fresh.flipped_ = flipped_;
        *this = std::move(fresh);
    }
    std::optional<Verdict> assumed() const { return assumed_; }
    // Whether the chunk counted anything differently had the verdict before it differed.
    bool depended() const { return depended_; }
    bool restarted() const { return restarted_; }
    // A chunk's assumed "defective" was contradicted before its first restart: the batch
    // checks that did it may differ from one pass's (E known so far, the batch the chunk
    // started in), so the chain reads the rest in one pass.
    bool flipped() const { return flipped_; }

    // The chance that one batch of honest routing lists E experts exactly once in E/k rows.
    static double chance(uint32_t num_experts, size_t k);

    void save(StateWriter& w) const;
    bool restore(StateReader& r);

  private:
    Verdict verdict_ = Verdict::undecided;
    uint32_t strided_ = 0;   // batches checked and strided, while undecided
    double log_chance_ = 0;  // sum of log chance() over them
    std::vector<Held> held_;
    // Chunks only, not saved: the verdict assumed at the start, whether a stream restart
    // came, and whether a later row came before it.
    std::optional<Verdict> assumed_;
    bool restarted_ = false, depended_ = false, flipped_ = false;
};

}  // namespace moe
