// Expert-cache simulation on a recorded sequence: a per-layer cache of C expert slots,
// one access per selection in log order, a token's experts in rank order
// (docs/FIGURES.md "Cache simulation").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "decisions/routing_sequence.hpp"

namespace moe {

// lru: evict the least recently used. lfu: evict the least frequently used (accesses since
// the start of the sequence, cached or not), ties by least recent use. opt: Belady with
// bypass, evict whichever of the cached experts and the requested one is next used furthest
// in the future (the requested one: not inserted). fixed ("static"): the C most-accessed
// experts of the whole sequence (ties by id), loaded before the first access, never changed.
enum class CachePolicy { lru, lfu, opt, fixed };

std::optional<CachePolicy> parse_cache_policy(std::string_view name);
std::string_view cache_policy_name(CachePolicy p);

struct CacheResult {
    uint64_t accesses = 0, hits = 0;
    double hit_rate() const;  // NaN without accesses
    void add(const CacheResult& o) {
        accesses += o.accesses;
        hits += o.hits;
    }
};

// The caches start empty (except fixed); capacity 0 never hits.
CacheResult simulate_cache(std::span<const int32_t> accesses, size_t capacity, CachePolicy p);

// Per layer, the expert ids of the records in `tag`, in log order and rank order.
std::map<int32_t, std::vector<int32_t>> layer_accesses(const RoutingSequence& seq, TagId tag);

}  // namespace moe
