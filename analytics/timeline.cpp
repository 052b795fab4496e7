#include "analytics/timeline.hpp"

#include <algorithm>
#include <cmath>

namespace moe {

void Timeline::add(double time, uint32_t tag, int32_t layer, std::span<const int32_t> experts,
                   size_t E) {
    const auto t = static_cast<int64_t>(std::floor(time));
    const int64_t start = window_start(t, seconds_);
    const size_t slot = static_cast<size_t>(tag) * (kLayers + 1) + static_cast<size_t>(layer + 1);
    if (slot >= cache_.size()) cache_.resize(slot + 1);
    Current& cur = cache_[slot];
    if (cur.start != start || !cur.counts) {
        cur.start = start;
        cur.counts = &buckets_[BucketKey{tag, layer, start}];
    }
    BucketCounts& b = *cur.counts;
    b.seconds = seconds_;
    if (b.hits.size() < E) b.hits.resize(E, 0);
    ++b.tokens;
    for (int32_t e : experts)
        ++b.hits[static_cast<size_t>(e)];
}

void Timeline::add_counts(const BucketKey& key, const BucketCounts& c) {
    auto [it, added] = buckets_.try_emplace(key);
    BucketCounts& b = it->second;
    // A rolled-up bucket and a finer one at the same start (a merge, a late record) are one
    // bucket of the wider width (docs/SCHEMA.md "Roll-ups").
    b.seconds = added ? c.seconds : std::max(b.seconds, c.seconds);
    b.tokens += c.tokens;
    if (b.hits.size() < c.hits.size()) b.hits.resize(c.hits.size(), 0);
    for (size_t e = 0; e < c.hits.size(); ++e)
        b.hits[e] += c.hits[e];
}

}  // namespace moe
