#include "decisions/cache_sim.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "analytics/online_cache.hpp"

namespace moe {

std::optional<CachePolicy> parse_cache_policy(std::string_view name) {
    if (name == "lru") return CachePolicy::lru;
    if (name == "lfu") return CachePolicy::lfu;
    if (name == "opt") return CachePolicy::opt;
    if (name == "static") return CachePolicy::fixed;
    return std::nullopt;
}

std::string_view cache_policy_name(CachePolicy p) {
    switch (p) {
        case CachePolicy::lru:
            return "lru";
        case CachePolicy::lfu:
            return "lfu";
        case CachePolicy::opt:
            return "opt";
        case CachePolicy::fixed:
            return "static";
    }
    return "?";
}

double CacheResult::hit_rate() const {
    return accesses ? static_cast<double>(hits) / static_cast<double>(accesses) : NAN;
}

namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

size_t id_space(std::span<const int32_t> a) {
    int32_t m = -1;
    for (int32_t e : a)
        m = std::max(m, e);
    return static_cast<size_t>(m + 1);
}

CacheResult run_static(std::span<const int32_t> a, size_t C, size_t E) {
    std::vector<uint64_t> n(E, 0);
    for (int32_t e : a)
        ++n[static_cast<size_t>(e)];
    std::vector<uint32_t> order(E);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t x, uint32_t y) { return n[x] > n[y]; });
    CacheResult r{a.size(), 0};
    for (size_t i = 0; i < std::min(C, E); ++i)
        r.hits += n[order[i]];
    return r;
}

// Belady with bypass: the cached set is small (C <= E), so a linear scan for the victim is
// cheaper than a heap at the sizes seen (E <= a few hundred).
CacheResult run_opt(std::span<const int32_t> a, size_t C, size_t E) {
    std::vector<uint64_t> next(a.size(), kNever);  // position of the next access of a[i]
    std::vector<uint64_t> seen(E, kNever);
    for (size_t i = a.size(); i-- > 0;) {
        next[i] = seen[static_cast<size_t>(a[i])];
        seen[static_cast<size_t>(a[i])] = i;
    }
    std::vector<uint64_t> nxt(E, kNever);
    std::vector<bool> cached(E, false);
    std::vector<int32_t> slots;
    CacheResult r{a.size(), 0};
    for (size_t i = 0; i < a.size(); ++i) {
        const auto e = static_cast<size_t>(a[i]);
        nxt[e] = next[i];
        if (cached[e]) {
            ++r.hits;
            continue;
        }
        if (slots.size() < C) {
            slots.push_back(a[i]);
            cached[e] = true;
            continue;
        }
        size_t v = 0;
        for (size_t s = 1; s < slots.size(); ++s)
            if (nxt[static_cast<size_t>(slots[s])] > nxt[static_cast<size_t>(slots[v])]) v = s;
        const auto victim = static_cast<size_t>(slots[v]);
        if (nxt[e] >= nxt[victim]) continue;  // bypass: the requested one is needed last
        cached[victim] = false;
        cached[e] = true;
        slots[v] = a[i];
    }
    return r;
}

// lru and lfu: the daemon's online cache (analytics/online_cache.hpp), so both agree.
CacheResult run_online(std::span<const int32_t> a, size_t C, OnlinePolicy p) {
    OnlineCache c({p, static_cast<uint32_t>(C)});
    for (int32_t e : a)
        c.access(e);
    return {c.accesses, c.hits};
}

}  // namespace

CacheResult simulate_cache(std::span<const int32_t> accesses, size_t capacity, CachePolicy p) {
    if (capacity == 0) return {accesses.size(), 0};
    const size_t E = id_space(accesses);
    switch (p) {
        case CachePolicy::fixed:
            return run_static(accesses, capacity, E);
        case CachePolicy::opt:
            return run_opt(accesses, capacity, E);
        case CachePolicy::lfu:
            return run_online(accesses, capacity, OnlinePolicy::lfu);
        case CachePolicy::lru:
            break;
    }
    return run_online(accesses, capacity, OnlinePolicy::lru);
}

std::map<int32_t, std::vector<int32_t>> layer_accesses(const RoutingSequence& seq, TagId tag) {
    std::map<int32_t, std::vector<int32_t>> out;
    for (const auto& en : seq.entries()) {
        if (!in_tag(en, tag)) continue;
        const auto ids = seq.experts(en);
        auto& v = out[en.layer];
        v.insert(v.end(), ids.begin(), ids.end());
    }
    return out;
}

}  // namespace moe
