// moescoped --affinity: follows each token from layer l to l + 1 as records are counted and
// adds every pair to its tag's transition table and to "all"'s, in the aggregates
// (TagStats::transitions), so they are saved with the other counts and `moescope affinity
// --db` and the gauges read them (docs/FIGURES.md "Affinity"). One follower per tag
// (tracing/layer_affinity.hpp, the one `moescope affinity FILE` uses), so a shadow
// deployment's two tags, which share request ids, never pair with each other. Memory: per
// tag a window of waiting records (charged to --max-memory-mb when the tag's first record
// comes) and per layer pair one E x E table (charged when it is made).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "tracing/layer_affinity.hpp"

namespace moe {

class LiveAffinity {
  public:
    static constexpr size_t kDefaultWindow = size_t{1} << 16;

    LiveAffinity(Aggregates& agg, size_t window) : agg_(agg), window_(window) {}

    // A record counted under `tag` (Aggregates' routing tap).
    void add(TagId tag, const RoutingRecord& r);

    // Why records were not followed, summed over the tags.
    struct Counters {
        uint64_t pairs = 0, evicted = 0, unfollowed = 0, duplicates = 0, unplaced = 0;
        uint64_t refused = 0;  // pairs or whole tags the memory budget had no room for
        size_t waiting = 0;
    };
    Counters counters() const;
    // moescope_affinity_*: per tag and layer pair the mutual information and the tokens
    // followed, and the counters above (docs/FIGURES.md "Prometheus metrics").
    std::string prometheus() const;

  private:
    struct Follower {
        std::unique_ptr<LayerAffinity> affinity;  // null: refused by the memory budget
        uint64_t refused = 0;                     // records of a refused tag, pairs refused
    };
    Follower& follower(TagId tag);

    Aggregates& agg_;
    size_t window_;
    std::vector<Follower> followers_;  // by TagId
};

}  // namespace moe
