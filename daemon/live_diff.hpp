// moescoped --diff A:B: the routing diff of two tags with the same request ids (a shadow
// deployment) while they run (docs/FIGURES.md "Routing diff"). Records of tag A (or A@PHASE)
// and B are aligned by (token, layer) in one RoutingDiff (tracing/routing_diff.hpp, the one
// `moescope diff` uses) whose window (--diff-window) bounds the records waiting for their
// partner; one pushed out is counted as evicted. At each flush the per-layer sums go into
// the aggregates (Aggregates::live_diffs, stored in the live_diff table) on top of what the
// database held at the start. State: the window, and per layer E counters and flip pairs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "tracing/routing_diff.hpp"

namespace moe {

struct DiffPairSpec {
    std::string a, b;
};

// "A:B" (the last ':' splits, so a tag may hold one); nullopt when a side is empty or A = B.
std::optional<DiffPairSpec> parse_diff_pair(const std::string& text);

class LiveDiffs {
  public:
    static constexpr size_t kDefaultWindow = size_t{1} << 16;

    // Charges each pair's window to the memory budget; throws std::runtime_error when it
    // does not fit.
    LiveDiffs(Aggregates& agg, const std::vector<DiffPairSpec>& pairs, size_t window);

    bool empty() const { return pairs_.empty(); }
    // A record counted under `tag` (Aggregates' routing tap).
    void add(TagId tag, const RoutingRecord& r);
    // Sets Aggregates::live_diffs to the stored base plus what was aligned since the start,
    // marking changed layers dirty (before a flush and before a scrape).
    void publish();
    // moescope_diff_*: per pair and layer the mean overlap and top-1 agreement, aligned
    // tokens and unmatched records, and the records waiting (docs/FIGURES.md "Prometheus metrics").
    std::string prometheus() const;

  private:
    struct Pair {
        DiffPairSpec spec;
        std::unique_ptr<RoutingDiff> diff;
        Aggregates::LiveDiff base;              // what the database held at the start
        std::vector<int8_t> side;               // by TagId: -1 unknown, 0 A, 1 B, 2 neither
        std::map<int32_t, uint64_t> published;  // records counted per layer at the last publish
    };
    Aggregates& agg_;
    std::vector<Pair> pairs_;
};

}  // namespace moe
