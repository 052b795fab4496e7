// An online expert cache of C slots fed one access at a time: the lru and lfu policies of
// the cache simulation (docs/FIGURES.md "Cache simulation"). `moescope cache` on files and
// the daemon's live simulation (--cache-capacity) both run this one implementation, so a
// running server and a replayed log give the same hit rates.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace moe {

enum class OnlinePolicy : uint8_t { lru = 0, lfu = 1 };

std::string_view online_policy_name(OnlinePolicy p);
std::optional<OnlinePolicy> parse_online_policy(std::string_view name);

// Which caches to simulate live: a policy and a capacity each.
struct CacheSpec {
    OnlinePolicy policy = OnlinePolicy::lru;
    uint32_t capacity = 0;
    bool operator==(const CacheSpec&) const = default;
};

// lru evicts the least recently used expert; lfu the least frequently used (accesses since
// the start, cached or not), ties by least recent use. Starts empty; capacity 0 never hits.
// Every selection the daemon counts passes here once per configured cache, so both are
// cheap per access: lru is a circular list over expert ids with a sentinel (no branches on
// list ends), lfu a binary min-heap of the cached experts on (accesses, last access), so a
// hit only sifts the used expert down and a miss replaces the root
// (BENCHMARKS.md "Live cache simulation").
class OnlineCache {
  public:
    explicit OnlineCache(CacheSpec spec) : spec_(spec) { grow(0); }

    // One access of expert e (>= 0); true on a hit.
    bool access(int32_t e) {
        const auto x = static_cast<uint32_t>(e);
        if (x >= cached_.size()) grow(x + 1);
        ++accesses;
        const bool hit = spec_.policy == OnlinePolicy::lru ? access_lru(x) : access_lfu(x);
        hits += hit;
        return hit;
    }
    // The same for every id of a record, in rank order.
    void access_all(std::span<const int32_t> ids) {
        for (int32_t e : ids)
            access(e);
    }

    const CacheSpec& spec() const { return spec_; }
    uint64_t accesses = 0, hits = 0;  // kept across restarts by the store

    // Adds another node's counters (the cache contents are not mergeable, only counts).
    void add_counts(const OnlineCache& o) {
        accesses += o.accesses;
        hits += o.hits;
    }

  private:
    static constexpr uint32_t kNone = UINT32_MAX;
    void grow(size_t n);
    bool access_lru(uint32_t x);
    bool access_lfu(uint32_t x);
    bool lfu_less(uint32_t a, uint32_t b) const {  // a is evicted before b
        return freq_[a] != freq_[b] ? freq_[a] < freq_[b] : last_[a] < last_[b];
    }
    void lfu_sift_down(uint32_t i);
    void lfu_sift_up(uint32_t i);

    CacheSpec spec_;
    std::vector<uint8_t> cached_;  // per expert id
    uint32_t size_ = 0;            // experts cached
    // lru: node 0 is the sentinel, expert x is node x + 1; next_ from the sentinel runs from
    // the most to the least recently used.
    std::vector<uint32_t> prev_, next_;
    // lfu: accesses and last access time per expert; heap_ holds the cached experts, the
    // victim at the root; pos_ is each cached expert's index in heap_.
    std::vector<uint64_t> freq_, last_;
    std::vector<uint32_t> heap_, pos_;
    uint64_t clock_ = 0;
};

// The live caches of one (tag, layer). A database may hold counts of specs this run does not
// simulate (the daemon restarted with other --cache-capacity values): they are kept, not fed.
// Counting a record only appends its ids to `pending` (a few instructions per selection);
// simulate() runs them through the caches later, off the ingest thread in the daemon
// (analytics/live_caches.hpp, BENCHMARKS.md "Live cache simulation").
struct CacheSet {
    std::vector<OnlineCache> caches;
    std::vector<int32_t> pending;  // accesses not simulated yet, in log and rank order

    // The cache of `spec`, created (empty, zero counts) if missing.
    OnlineCache& of(const CacheSpec& spec);
    // Feeds exactly these specs from now on (a restart keeps their stored counts; the
    // contents start empty, as a restarted server's cache does).
    void configure(const std::vector<CacheSpec>& specs);
    bool configured() const { return configured_; }
    // One record's ids, in rank order, for the next simulate().
    void record(std::span<const int32_t> ids) {
        if (!active_.empty()) pending.insert(pending.end(), ids.begin(), ids.end());
    }
    // Runs `pending` through every configured cache and empties it.
    void simulate();
    // Sets every cache's counters to those of the same spec in `o` (contents untouched).
    void copy_counts(const CacheSet& o);
    void merge(const CacheSet& o);

  private:
    std::vector<size_t> active_;  // indices into caches
    bool configured_ = false;
};

}  // namespace moe
