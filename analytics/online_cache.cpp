#include "analytics/online_cache.hpp"

namespace moe {

std::string_view online_policy_name(OnlinePolicy p) {
    return p == OnlinePolicy::lfu ? "lfu" : "lru";
}

std::optional<OnlinePolicy> parse_online_policy(std::string_view name) {
    if (name == "lru") return OnlinePolicy::lru;
    if (name == "lfu") return OnlinePolicy::lfu;
    return std::nullopt;
}

void OnlineCache::grow(size_t n) {
    cached_.resize(n, 0);
    if (spec_.policy == OnlinePolicy::lru) {
        const bool fresh = prev_.empty();
        prev_.resize(n + 1, 0);
        next_.resize(n + 1, 0);
        if (fresh) prev_[0] = next_[0] = 0;  // the empty circular list
    } else {
        freq_.resize(n, 0);
        last_.resize(n, 0);
        pos_.resize(n, kNone);
    }
}

bool OnlineCache::access_lru(uint32_t x) {
    const uint32_t n = x + 1;
    const bool hit = cached_[x];
    if (hit) {
        if (next_[0] == n) return true;  // already the most recent
        next_[prev_[n]] = next_[n];      // unlink
        prev_[next_[n]] = prev_[n];
    } else {
        if (spec_.capacity == 0) return false;
        if (size_ == spec_.capacity) {  // evict the least recent (the sentinel's prev)
            const uint32_t v = prev_[0];
            next_[prev_[v]] = 0;
            prev_[0] = prev_[v];
            cached_[v - 1] = 0;
        } else {
            ++size_;
        }
        cached_[x] = 1;
    }
    next_[n] = next_[0];  // push to the front
    prev_[n] = 0;
    prev_[next_[0]] = n;
    next_[0] = n;
    return hit;
}

void OnlineCache::lfu_sift_down(uint32_t i) {
    const uint32_t x = heap_[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= size_) break;
        if (c + 1 < size_ && lfu_less(heap_[c + 1], heap_[c])) ++c;
        if (!lfu_less(heap_[c], x)) break;
        heap_[i] = heap_[c];
        pos_[heap_[i]] = i;
        i = c;
    }
    heap_[i] = x;
    pos_[x] = i;
}

void OnlineCache::lfu_sift_up(uint32_t i) {
    const uint32_t x = heap_[i];
    while (i > 0) {
        const uint32_t p = (i - 1) / 2;
        if (!lfu_less(x, heap_[p])) break;
        heap_[i] = heap_[p];
        pos_[heap_[i]] = i;
        i = p;
    }
    heap_[i] = x;
    pos_[x] = i;
}

bool OnlineCache::access_lfu(uint32_t x) {
    ++freq_[x];
    last_[x] = clock_++;
    if (pos_[x] != kNone) {  // its key grew: it can only move away from the root
        lfu_sift_down(pos_[x]);
        return true;
    }
    if (spec_.capacity == 0) return false;
    if (size_ < spec_.capacity) {
        heap_.push_back(x);
        lfu_sift_up(size_++);
    } else {
        pos_[heap_[0]] = kNone;
        cached_[heap_[0]] = 0;
        heap_[0] = x;
        lfu_sift_down(0);
    }
    cached_[x] = 1;
    return false;
}

OnlineCache& CacheSet::of(const CacheSpec& spec) {
    for (auto& c : caches)
        if (c.spec() == spec) return c;
    return caches.emplace_back(spec);
}

void CacheSet::configure(const std::vector<CacheSpec>& specs) {
    active_.clear();
    for (const auto& s : specs) {
        of(s);
        for (size_t i = 0; i < caches.size(); ++i)
            if (caches[i].spec() == s) active_.push_back(i);
    }
    configured_ = true;
}

void CacheSet::simulate() {
    // Cache by cache over the whole buffer: each cache's state stays in L1 for the run.
    for (size_t i : active_)
        caches[i].access_all(pending);
    pending.clear();
}

void CacheSet::copy_counts(const CacheSet& o) {
    for (const auto& c : o.caches) {
        OnlineCache& mine = of(c.spec());
        mine.accesses = c.accesses;
        mine.hits = c.hits;
    }
}

void CacheSet::merge(const CacheSet& o) {
    for (const auto& c : o.caches)
        of(c.spec()).add_counts(c);
}

}  // namespace moe
