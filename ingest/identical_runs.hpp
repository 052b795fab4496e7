// Long runs of identical routing, such as vLLM's warm-up batches (thousands of tokens routed
// alike), which would dominate every figure (docs/GUARANTEES.md, docs/FIGURES.md
// "Data quality"). A run is a sequence of consecutive records of one layer in one stream
// with the same expert ids in the same order and the same weights (or none); one of kMinRun
// records or more is reported. Unless --keep-suspect, records 2.. of a run are held until
// the run breaks (then counted) or reaches kMinRun (then left out, and every later record of
// the run too): the run's first record stays counted, like any record. Saved in the stream
// checkpoint.
#pragma once

#include <cstdint>
#include <vector>

#include "ingest/held_record.hpp"

namespace moe {

class IdenticalRuns {
  public:
    static constexpr uint64_t kMinRun = 256;

    // The length of the record's run so far, this record included (1: a new run).
    uint64_t observe(const RoutingRecord& r);
    // Exclusion: the records 2.. of a layer's current run, held until it is decided (after
    // observe() of a record of that layer). hold() and take_held() keep count of them.
    void hold(int32_t layer, HeldRecord h) {
        last_[static_cast<size_t>(layer)].held.push_back(std::move(h));
        ++holding_;
    }
    std::vector<HeldRecord> take_held(int32_t layer) {
        std::vector<HeldRecord> v = std::move(last_[static_cast<size_t>(layer)].held);
        last_[static_cast<size_t>(layer)].held.clear();
        holding_ -= v.size();
        return v;
    }
    bool holding() const { return holding_ > 0; }
    // Every held record, layer by layer (the stream ended); forgets them.
    std::vector<HeldRecord> release_all();
    void save(StateWriter& w) const;
    bool restore(StateReader& r);

    // Parallel ingest (ingest/parallel_ingest.hpp): whether `later`, the state of the next
    // chunk started fresh, would have continued a run of this one (its first record of some
    // layer equals our last of that layer); advance() makes `later`'s last records ours.
    bool continued_by(const IdenticalRuns& later) const;
    void advance(const IdenticalRuns& later);

  private:
    struct Last {
        std::vector<int32_t> experts;
        std::vector<float> weights;
        uint64_t run = 0;
        bool seen = false;             // the layer has a run (observed or restored)
        std::vector<HeldRecord> held;  // records 2.. of the run while it is undecided
    };
    // Indexed by layer (validated records: 0..kMaxLayer), not a map: observe() runs for
    // every record, and a map lookup cost more than the rest of it.
    static Last& at(std::vector<Last>& v, int32_t layer);
    static const Last* find(const std::vector<Last>& v, int32_t layer);
    std::vector<Last> last_;
    std::vector<Last> first_;  // each layer's first record of this stream
    size_t holding_ = 0;       // held records over all layers
};

}  // namespace moe
