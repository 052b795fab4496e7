// Follows each token from layer l to layer l + 1 (docs/FIGURES.md "Affinity"): a record
// waits, keyed by its token (tracing/token_key.hpp), until the same token's record of the
// next layer comes; the pair is counted in that layer pair's TransitionTable and, when asked,
// kept for the prefetch evaluation. At most `window` records wait; one pushed out is
// counted, as are records never followed by their next layer (every token's last layer).
// Records come in counting order, not always log order: a data-quality hold (top-k
// probation, an identical run, the strided-view verdict) counts a record of layer l after
// later layers' records (a layer's own order is kept). So a record also meets a partner of
// the layer above that came first, and a record whose partner above came stays a while
// (kLateWindow records) for a partner below that may still come.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <vector>

#include "analytics/transition_table.hpp"
#include "parsers/record.hpp"
#include "tracing/bounded_fifo_map.hpp"
#include "tracing/token_key.hpp"

namespace moe {

// The pairs of one layer pair in the order they were made.
class PairSequence {
  public:
    // `pass`, `row`: the layer l + 1 record's place in its stream; pairs are evaluated in
    // that order, the log's (a pass's batches rise by layer), whatever order they came in.
    void add(std::span<const int32_t> from, std::span<const int32_t> to, int64_t pass = -1,
             int32_t row = -1);
    size_t size() const { return events_.size(); }
    // Pair indexes in log order (stable: pairs without a place, -1, come first, in the
    // order they came).
    std::vector<size_t> log_order() const;
    std::span<const int32_t> from(size_t i) const {
        return {ids_.data() + events_[i].begin, events_[i].from_k};
    }
    std::span<const int32_t> to(size_t i) const {
        return {ids_.data() + events_[i].begin + events_[i].from_k, events_[i].to_k};
    }

  private:
    struct Event {
        uint64_t begin;
        int64_t pass;
        int32_t row;
        uint16_t from_k, to_k;
    };
    std::vector<int32_t> ids_;
    std::vector<Event> events_;
};

class LayerAffinity {
  public:
    static constexpr size_t kDefaultWindow = size_t{1} << 20;
    // Held records come late by at most about 4,096 records (ingest/topk_probation.hpp,
    // ingest/strided_policy.hpp) or a 255-record identical run per layer.
    static constexpr size_t kLateWindow = size_t{1} << 15;

    // Where a pair goes instead of tables(): the daemon counts it in the aggregates
    // (Aggregates::add_transition), so the live tables are not held twice.
    using PairSink = std::function<void(int32_t from_layer, std::span<const int32_t> from,
                                        std::span<const int32_t> to)>;

    // `keep_sequence`: also keep every pair for evaluate_prefetch (k + k ids a pair).
    explicit LayerAffinity(size_t window = kDefaultWindow, bool keep_sequence = true,
                           PairSink sink = {});
    // What one waiting record holds besides its ids, for charging a window to a budget.
    static constexpr size_t kWaitingBytes = 160;

    void add(const RoutingRecord& r);
    // A stream ended (a file read to its end): its records still waiting have no next
    // layer, and the next stream's passes and request ids are its own.
    void finish();

    // Keyed by the lower layer l of the pair (l, l + 1).
    const std::map<int32_t, TransitionTable>& tables() const { return tables_; }  // no sink
    const std::map<int32_t, PairSequence>& sequences() const { return sequences_; }

    uint64_t pairs() const { return pairs_; }
    uint64_t unplaced() const { return unplaced_; }      // no token position: not followed
    uint64_t duplicates() const { return duplicates_; }  // a token's layer seen again
    uint64_t evicted() const { return evicted_; }        // pushed out of the window
    // No next layer: waiting when the input ended, or of the last layer and pushed out of
    // the window.
    uint64_t unfollowed() const { return unfollowed_; }
    size_t waiting() const { return waiting_.size() + late_.size(); }

  private:
    struct Waiting {
        std::vector<int32_t> experts;
        int64_t pass;
        int32_t row;
        bool below_done;  // paired with its layer l - 1 record
    };
    // `pass`, `row`: the layer l + 1 record's place.
    void pair(int32_t from_layer, std::span<const int32_t> from, std::span<const int32_t> to,
              int64_t pass, int32_t row);

    // Records whose layer l + 1 partner has not come.
    BoundedFifoMap<TokenKey, Waiting, TokenKeyHash> waiting_;
    // Records whose partner above came but whose partner below may still come late.
    BoundedFifoMap<TokenKey, Waiting, TokenKeyHash> late_;
    bool keep_sequence_;
    PairSink sink_;
    std::map<int32_t, TransitionTable> tables_;
    std::map<int32_t, PairSequence> sequences_;
    uint64_t pairs_ = 0, unplaced_ = 0, duplicates_ = 0, evicted_ = 0, unfollowed_ = 0;
    int32_t top_layer_ = -1;  // the highest layer seen
    bool top_known_ = false;  // a lower one came after it: it is the last layer
};

struct PrefetchRecall {
    uint32_t m = 0;            // experts prefetched
    double recall = 0;         // of layer l + 1's selections, the share prefetched
    double static_recall = 0;  // the same for l + 1's m hottest experts
};

struct PrefetchEvaluation {
    uint64_t fitted = 0, scored = 0;
    std::vector<PrefetchRecall> recall;  // per multiplier, m = multiplier * k (at most E)
};

// Fits on the first floor(split * n) pairs of `s` and scores the rest: a token's layer
// l + 1 experts are predicted as the m with the highest sum over its layer l experts a of
// P_fit(b | a) (ties: the hotter at l + 1 in the fit, then the lower id); the static
// predictor takes l + 1's m hottest experts of the fit. k: the first pair's l + 1 top-k.
PrefetchEvaluation evaluate_prefetch(const PairSequence& s, double split,
                                     std::span<const uint32_t> multipliers);

}  // namespace moe
