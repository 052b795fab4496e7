// Hits over time: per time bucket (default one minute), tag and layer (-1 = all layers
// combined), the tokens and per-expert hits. A record's time is its own timestamp, else
// its arrival time at the daemon; records with neither (a file without timestamps read by
// `analyze`) are not bucketed. Buckets are additive: the daemon writes the buckets it
// touched since the last flush as increments, so late records and restarts stay exact.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <span>
#include <utility>
#include <vector>

namespace moe {

struct BucketKey {
    uint32_t tag = 0;  // TagId
    int32_t layer = -1;
    int64_t start = 0;  // seconds since the epoch, a multiple of the bucket width
    auto operator<=>(const BucketKey&) const = default;
};

// The start of the window of `width` seconds that holds second t (windows start at
// multiples of width; t may be negative): timeline buckets and drift windows alike.
inline int64_t window_start(int64_t t, int64_t width) {
    return t - ((t % width) + width) % width;
}

// The default timeline bucket width (--bucket-s), in seconds.
inline constexpr int64_t kDefaultBucketSeconds = 60;

struct BucketCounts {
    int64_t seconds = kDefaultBucketSeconds;  // bucket width
    uint64_t tokens = 0;
    std::vector<uint64_t> hits;
    bool operator==(const BucketCounts&) const = default;
};

class Timeline {
  public:
    explicit Timeline(int64_t bucket_seconds = kDefaultBucketSeconds)
        : seconds_(bucket_seconds > 0 ? bucket_seconds : kDefaultBucketSeconds) {}

    int64_t bucket_seconds() const { return seconds_; }
    void set_bucket_seconds(int64_t s) { seconds_ = s > 0 ? s : kDefaultBucketSeconds; }

    void add(double time, uint32_t tag, int32_t layer, std::span<const int32_t> experts,
             size_t num_experts);
    // Adds a stored bucket (load, merge).
    void add_counts(const BucketKey& key, const BucketCounts& c);

    const std::map<BucketKey, BucketCounts>& buckets() const { return buckets_; }
    void clear() {
        buckets_.clear();
        cache_.clear();
    }
    // Hands the buckets over (a background writer's snapshot) and starts empty.
    std::map<BucketKey, BucketCounts> take() {
        cache_.clear();
        return std::exchange(buckets_, {});
    }
    bool empty() const { return buckets_.empty(); }

  private:
    int64_t seconds_;
    std::map<BucketKey, BucketCounts> buckets_;
    // The current bucket of each (tag, layer): records arrive in time order, so the map is
    // searched once per bucket, not once per record. Map nodes never move.
    struct Current {
        int64_t start = INT64_MIN;
        BucketCounts* counts = nullptr;
    };
    std::vector<Current> cache_;  // index: tag * (kLayers + 1) + layer + 1
    static constexpr size_t kLayers = 1024;
};

}  // namespace moe
