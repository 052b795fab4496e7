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
        prev_.resize(n, kNone);
        next_.resize(n, kNone);
    } else {
        freq_.resize(n, 0);
        last_.resize(n, 0);
        slot_of_.resize(n, kNone);
    }
}

void OnlineCache::lru_unlink(uint32_t x) {
    (prev_[x] == kNone ? head_ : next_[prev_[x]]) = next_[x];
    (next_[x] == kNone ? tail_ : prev_[next_[x]]) = prev_[x];
}

void OnlineCache::lru_push_front(uint32_t x) {
    prev_[x] = kNone;
    next_[x] = head_;
    (head_ == kNone ? tail_ : prev_[head_]) = x;
    head_ = x;
}

bool OnlineCache::access_lru(uint32_t x) {
    if (cached_[x]) {
        if (head_ != x) {
            lru_unlink(x);
            lru_push_front(x);
        }
        return true;
    }
    if (spec_.capacity == 0) return false;
    if (size_ == spec_.capacity) {
        const uint32_t v = tail_;
        lru_unlink(v);
        cached_[v] = 0;
    } else {
        ++size_;
    }
    lru_push_front(x);
    cached_[x] = 1;
    return false;
}

// The cached expert with the fewest accesses, ties by least recent access (last access
// times are distinct, so exactly one).
void OnlineCache::lfu_find_victim() {
    uint32_t v = 0;
    for (uint32_t s = 1; s < size_; ++s) {
        const uint32_t a = slots_[s], b = slots_[v];
        if (freq_[a] < freq_[b] || (freq_[a] == freq_[b] && last_[a] < last_[b])) v = s;
    }
    victim_ = v;
}

bool OnlineCache::access_lfu(uint32_t x) {
    ++freq_[x];
    last_[x] = clock_++;
    if (cached_[x]) {
        // Keys only grow: the victim changes only when the victim itself was used.
        if (slot_of_[x] == victim_) lfu_find_victim();
        return true;
    }
    if (spec_.capacity == 0) return false;
    uint32_t s = victim_;
    if (size_ < spec_.capacity) {
        s = size_++;
        slots_.push_back(x);
    } else {
        cached_[slots_[s]] = 0;
        slot_of_[slots_[s]] = kNone;
        slots_[s] = x;
    }
    cached_[x] = 1;
    slot_of_[x] = s;
    lfu_find_victim();
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

void CacheSet::merge(const CacheSet& o) {
    for (const auto& c : o.caches)
        of(c.spec()).add_counts(c);
}

}  // namespace moe
