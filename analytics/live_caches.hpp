// The contents of the daemon's live expert caches (moescoped --cache-capacity), apart from
// the aggregates: the ingest thread only buffers each (tag, layer)'s accesses
// (CacheSet::record) and whoever owns a LiveCaches, the daemon's writer thread, runs them
// before it saves the counters, so the simulation costs the selection path almost nothing
// and the saved counters are exactly the hits of the accesses counted so far
// (BENCHMARKS.md "Live cache simulation", docs/FIGURES.md "Cache simulation").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "analytics/aggregates.hpp"

namespace moe {

class LiveCaches {
  public:
    // Runs the pending accesses of every (tag, layer) of `changes` (a take_changes() copy,
    // or the live aggregates themselves) through the caches kept here and sets the counters
    // there to the caches' own. A (tag, layer) seen the first time starts from the counters
    // it carries (those loaded from the database) and empty contents.
    void advance(Aggregates& changes);

    // Sets the counters of `to` (the live aggregates) to those of `from`, an advanced copy:
    // what Prometheus shows between flushes.
    static void copy_counts(const Aggregates& from, Aggregates& to);

  private:
    std::map<std::pair<std::string, int32_t>, CacheSet> caches_;
};

}  // namespace moe
