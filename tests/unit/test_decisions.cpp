// decisions/: coverage, pruning and cache simulation on hand-made records whose figures are
// worked out by hand in the comments (docs/FIGURES.md "Coverage", "Pruning", "Cache
// simulation").
#include <catch2/catch.hpp>

#include <functional>
#include <random>

#include "analytics/live_caches.hpp"
#include "analytics/no_data_error.hpp"
#include "cli/keep_list_file.hpp"
#include "decisions/cache_sim.hpp"
#include "decisions/coverage.hpp"
#include "decisions/prune.hpp"
#include "temp_dir.hpp"

using namespace moe;

namespace {
struct DecisionFixture {
    Aggregates agg;
    RoutingSequence seq;
    void add(TagId tag, int32_t layer, std::vector<int32_t> experts,
             std::vector<float> weights = {}) {
        RoutingRecord r;
        r.layer = layer;
        r.experts = experts;
        r.weights = weights;
        REQUIRE_FALSE(agg.add_routing(tag, r));
        seq.add(tag, r);
    }
};

// Layer 0, E = 4: hits 0:4, 1:3, 2:2, 3:1 (S = 10), weight mass 0:2.1, 1:1.7, 2:0.4, 3:0.8 (of 5).
void five_records(DecisionFixture& f, TagId tag = kAllTag) {
    f.add(tag, 0, {0, 1}, {0.5f, 0.5f});
    f.add(tag, 0, {0, 2}, {0.9f, 0.1f});
    f.add(tag, 0, {0, 1}, {0.5f, 0.5f});
    f.add(tag, 0, {3, 0}, {0.8f, 0.2f});
    f.add(tag, 0, {1, 2}, {0.7f, 0.3f});
}

std::vector<bool> mask(std::initializer_list<int> kept, size_t E) {
    std::vector<bool> m(E, false);
    for (int e : kept)
        m[static_cast<size_t>(e)] = true;
    return m;
}
}  // namespace

TEST_CASE("coverage ranks experts by hits and by mass and counts experts per share") {
    DecisionFixture f;
    five_records(f);
    const auto c = layer_coverage(f.agg.tag(kAllTag), 0);
    CHECK(c.selections == 10);
    CHECK(c.hits.order == std::vector<uint32_t>{0, 1, 2, 3});
    REQUIRE(c.hits.curve.size() == 4);
    CHECK(c.hits.curve[0] == Approx(0.4));
    CHECK(c.hits.curve[1] == Approx(0.7));
    CHECK(c.hits.curve[3] == 1.0);
    // 0.5 -> 2 experts (0.7), 0.8 -> 3 (0.9), 0.9 -> 3, 0.95 -> 4, 0.99 -> 4
    CHECK(c.hits.needed == std::array<size_t, 5>{2, 3, 3, 4, 4});
    REQUIRE(c.mass);
    CHECK(c.mass->order == std::vector<uint32_t>{0, 1, 3, 2});
    // mass 2.1, 1.7, 0.8, 0.4 of 5.0: 0.42, 0.76, 0.92, 1.0 (float weights: within rounding)
    CHECK(c.mass->curve[1] == Approx(0.76));
    CHECK(c.mass->curve[2] == Approx(0.92));
    CHECK(c.mass->needed[0] == 2);
    CHECK(c.mass->needed[4] == 4);
}

TEST_CASE("coverage without weights has no mass side; experts_for_share edges") {
    DecisionFixture f;
    f.add(kAllTag, 2, {1, 0});
    CHECK_FALSE(layer_coverage(f.agg.tag(kAllTag), 2).mass);
    const std::vector<double> curve = {0.5, 1.0};
    CHECK(experts_for_share(curve, 0.5) == 1);
    CHECK(experts_for_share(curve, 0.51) == 2);
    CHECK(experts_for_share({}, 0.5) == 0);
}

TEST_CASE("keep masks follow the three rules and both weightings") {
    DecisionFixture f;
    five_records(f);
    const LayerStats& l = *f.agg.tag(kAllTag).layer(0);
    CHECK(keep_mask(l, 4, {PruneRule::keep_count, 2, Weighting::hits}, 0) == mask({0, 1}, 4));
    CHECK(keep_mask(l, 4, {PruneRule::keep_coverage, 0.8, Weighting::hits}, 0) ==
          mask({0, 1, 2}, 4));
    CHECK(keep_mask(l, 4, {PruneRule::keep_coverage, 0.8, Weighting::mass}, 0) ==
          mask({0, 1, 3}, 4));
    // shares 0.4 0.3 0.2 0.1: below 0.25 drops 2 and 3
    CHECK(keep_mask(l, 4, {PruneRule::drop_below, 0.25, Weighting::hits}, 0) == mask({0, 1}, 4));
    CHECK(keep_mask(l, 4, {PruneRule::keep_count, 99, Weighting::hits}, 0) ==
          mask({0, 1, 2, 3}, 4));
    DecisionFixture plain;
    plain.add(kAllTag, 0, {0, 1});
    CHECK_THROWS_AS(keep_mask(*plain.agg.tag(kAllTag).layer(0), 2,
                              {PruneRule::keep_count, 1, Weighting::mass}, 0),
                    NoDataError);  // exit 3: no weights to weigh by
}

TEST_CASE("a keep-list planned for several tags is the union of their lists") {
    DecisionFixture f;
    const TagId a = f.agg.tag_id("a"), b = f.agg.tag_id("b");
    f.add(a, 0, {0, 1});
    f.add(a, 0, {0, 2});
    f.add(b, 0, {3, 2});
    f.add(b, 0, {3, 1});
    const PruneSpec top1{PruneRule::keep_count, 1, Weighting::hits};
    CHECK(plan_keep_list(f.agg, {a}, top1).at(0) == mask({0}, 4));
    CHECK(plan_keep_list(f.agg, {b}, top1).at(0) == mask({3}, 4));
    CHECK(plan_keep_list(f.agg, {a, b}, top1).at(0) == mask({0, 3}, 4));
}

TEST_CASE("drop cost: shares from totals, token fractions from cooc equal the sequence's") {
    DecisionFixture f;
    five_records(f);
    const auto keep = mask({0, 1}, 4);
    const DropCost c = drop_cost(*f.agg.tag(kAllTag).layer(0), keep);
    CHECK(c.selection_share() == Approx(0.3));  // experts 2, 3: 2 + 1 of 10
    CHECK(c.mass_share() == Approx(0.24));      // 0.4 + 0.8 of 5.0
    // records {0,2} {3,0} {1,2} lose an expert; none loses both
    REQUIRE(c.tokens_any);
    CHECK(*c.tokens_any == 3);
    CHECK(*c.tokens_all == 0);
    const auto seq = token_drops(f.seq, kAllTag, {{0, keep}});
    CHECK(seq.at(0) == std::pair<uint64_t, uint64_t>{3, 0});
    // dropping 0 and 2: {0,2} loses both
    const auto keep13 = mask({1, 3}, 4);
    const DropCost d = drop_cost(*f.agg.tag(kAllTag).layer(0), keep13);
    CHECK(*d.tokens_all == 1);
    CHECK(*d.tokens_any == 5);  // every record holds 0 or 2
    CHECK(token_drops(f.seq, kAllTag, {{0, keep13}}).at(0) ==
          std::pair<uint64_t, uint64_t>{*d.tokens_any, *d.tokens_all});
}

TEST_CASE("token fractions of top-3 records are unknown from totals") {
    DecisionFixture f;
    f.add(kAllTag, 0, {0, 1, 2});
    CHECK_FALSE(drop_cost(*f.agg.tag(kAllTag).layer(0), mask({0}, 3)).tokens_any);
    CHECK(token_drops(f.seq, kAllTag, {{0, mask({0}, 3)}}).at(0) ==
          std::pair<uint64_t, uint64_t>{1, 0});
}

TEST_CASE("keep-list files round-trip as JSON and CSV and reject bad ids") {
    test::TempDir dir;
    const KeepList k = {{0, mask({0, 2}, 4)}, {5, mask({}, 4)}};
    for (const char* name : {"k.json", "k.csv"}) {
        write_keep_list(dir.file(name), k, "m");
        const KeepList back = read_keep_list(dir.file(name), 4);
        CHECK(back.at(0) == k.at(0));
        // CSV lists kept experts only: a layer keeping nothing has no row (it keeps all)
        if (std::string(name) == "k.json") CHECK(back.at(5) == k.at(5));
    }
    CHECK(keep_list_json(k, "m") == "{\"model\":\"m\",\"layers\":{\"0\":[0,2],\"5\":[]}}\n");
    CHECK_THROWS_AS(read_keep_list(dir.file("k.json"), 2), std::invalid_argument);
    CHECK_THROWS_AS(read_keep_list(dir.file("missing.json"), 4), std::runtime_error);
}

TEST_CASE("cache policies on a hand-traced sequence") {
    // 0 0 1 2 1, C = 2. lru: 0m 0h 1m 2m(evicts 0) 1h -> 2. lfu: 2 evicts 1 (freq 1 < 2),
    // then 1 misses -> 1. opt: 2 and 0 are never used again: bypass, 1 hits -> 2.
    // static: the two most-accessed, 0 and 1 -> 4 hits.
    const std::vector<int32_t> a = {0, 0, 1, 2, 1};
    CHECK(simulate_cache(a, 2, CachePolicy::lru).hits == 2);
    CHECK(simulate_cache(a, 2, CachePolicy::lfu).hits == 1);
    CHECK(simulate_cache(a, 2, CachePolicy::opt).hits == 2);
    CHECK(simulate_cache(a, 2, CachePolicy::fixed).hits == 4);
    CHECK(simulate_cache(a, 2, CachePolicy::lru).accesses == 5);
    // 0 1 0 1 with one slot: lru/lfu thrash, opt keeps 0 once, static holds 0.
    const std::vector<int32_t> b = {0, 1, 0, 1};
    CHECK(simulate_cache(b, 1, CachePolicy::lru).hits == 0);
    CHECK(simulate_cache(b, 1, CachePolicy::lfu).hits == 0);
    CHECK(simulate_cache(b, 1, CachePolicy::opt).hits == 1);
    CHECK(simulate_cache(b, 1, CachePolicy::fixed).hits == 2);
    CHECK(simulate_cache(b, 0, CachePolicy::lru).hits == 0);
    CHECK(std::isnan(CacheResult{}.hit_rate()));
}

namespace {
// Exhaustive optimum over every eviction choice (bypass included), starting empty.
uint64_t brute_opt(const std::vector<int32_t>& a, size_t i, std::vector<int32_t> cache, size_t C) {
    if (i == a.size()) return 0;
    if (std::find(cache.begin(), cache.end(), a[i]) != cache.end())
        return 1 + brute_opt(a, i + 1, cache, C);
    uint64_t best = brute_opt(a, i + 1, cache, C);  // bypass
    if (cache.size() < C) {
        auto c = cache;
        c.push_back(a[i]);
        return std::max(best, brute_opt(a, i + 1, c, C));
    }
    for (size_t v = 0; v < cache.size(); ++v) {
        auto c = cache;
        c[v] = a[i];
        best = std::max(best, brute_opt(a, i + 1, c, C));
    }
    return best;
}
}  // namespace

TEST_CASE("opt equals the exhaustive optimum and bounds lru and lfu") {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 40; ++trial) {
        std::vector<int32_t> a(10);
        for (auto& e : a)
            e = static_cast<int32_t>(rng() % 4);
        for (size_t C : {1, 2, 3}) {
            const uint64_t opt = simulate_cache(a, C, CachePolicy::opt).hits;
            CHECK(opt == brute_opt(a, 0, {}, C));
            CHECK(simulate_cache(a, C, CachePolicy::lru).hits <= opt);
            CHECK(simulate_cache(a, C, CachePolicy::lfu).hits <= opt);
        }
    }
}

TEST_CASE("layer_accesses keeps log order and rank order per layer and tag") {
    DecisionFixture f;
    const TagId t = f.agg.tag_id("t");
    f.add(t, 1, {3, 0});
    f.add(kAllTag, 0, {2, 1});
    f.add(t, 1, {1, 2});
    const auto all = layer_accesses(f.seq, kAllTag);
    CHECK(all.at(1) == std::vector<int32_t>{3, 0, 1, 2});
    CHECK(all.at(0) == std::vector<int32_t>{2, 1});
    CHECK(layer_accesses(f.seq, t).count(0) == 0);
}

TEST_CASE("live caches: fed per record under each tag and layer, merged by counts") {
    // The sequence of "cache policies on a hand-traced sequence" as two-expert records
    // (0 0 | 1 2 | 1 ...): lru C=2 gives 2 hits, lfu C=2 gives 1, exactly as simulated.
    AnalyticsOptions o;
    o.caches = {{OnlinePolicy::lru, 2}, {OnlinePolicy::lfu, 2}};
    Aggregates agg(o);
    for (std::vector<int32_t> ids : {std::vector<int32_t>{0, 1}, {2, 1}}) {
        RoutingRecord r;
        r.layer = 3;
        r.experts = ids;
        REQUIRE_FALSE(agg.add_routing(kAllTag, r));
    }
    // Counting only buffers the accesses; the cache owner runs them.
    const CacheSet& cs = agg.tag(kAllTag).layer(3)->caches;
    CHECK(cs.pending == std::vector<int32_t>{0, 1, 2, 1});
    REQUIRE(cs.caches.size() == 2);
    CHECK(cs.caches[0].accesses == 0);
    LiveCaches live;
    live.advance(agg);
    CHECK(cs.pending.empty());
    // 0 1 2 1: lru 0m 1m 2m(evicts 0) 1h -> 1; lfu: 2 evicts 0 (freq 1 each, 0 older) -> 1.
    for (const auto& c : cs.caches) {
        CHECK(c.accesses == 4);
        CHECK(c.hits == 1);
        const std::vector<int32_t> seq = {0, 1, 2, 1};
        const auto p = c.spec().policy == OnlinePolicy::lru ? CachePolicy::lru : CachePolicy::lfu;
        CHECK(simulate_cache(seq, 2, p).hits == c.hits);
    }
    CHECK(agg.tag(kAllTag).global.caches.caches.empty());  // a cache is per layer

    // Merging adds counts per spec; a spec only the other side has is taken over.
    CacheSet a = cs, b;
    b.of({OnlinePolicy::lru, 2}).accesses = 10;
    b.of({OnlinePolicy::lru, 2}).hits = 7;
    b.of({OnlinePolicy::lru, 8}).hits = 1;
    a.merge(b);
    CHECK(a.of({OnlinePolicy::lru, 2}).accesses == 14);
    CHECK(a.of({OnlinePolicy::lru, 2}).hits == 8);
    CHECK(a.of({OnlinePolicy::lru, 8}).hits == 1);
    // Only configured specs are fed: a stored capacity dropped from the options keeps its
    // counts.
    CacheSet s;
    s.of({OnlinePolicy::lfu, 4}).accesses = 5;
    s.configure({{OnlinePolicy::lru, 1}});
    const std::vector<int32_t> zero = {0};
    s.record(zero);
    s.record(zero);
    s.simulate();
    CHECK(s.of({OnlinePolicy::lfu, 4}).accesses == 5);
    CHECK(s.of({OnlinePolicy::lru, 1}).hits == 1);
}

TEST_CASE("live caches: contents carry over flushes, counters follow the copies") {
    // The daemon's path: each flush's take_changes() copy is advanced by the writer, then
    // its counters are copied back for the gauges. lru C=2 on 0 1 | 0 1, 2 3: the second
    // flush's accesses hit only if the contents survived the first.
    AnalyticsOptions o;
    o.caches = {{OnlinePolicy::lru, 2}};
    Aggregates agg(o);
    LiveCaches live;
    const auto add = [&](std::vector<int32_t> ids) {
        RoutingRecord r;
        r.layer = 0;
        r.experts = ids;
        REQUIRE_FALSE(agg.add_routing(kAllTag, r));
    };
    const auto flush = [&] {
        auto changes = agg.take_changes();
        CHECK(agg.tag(kAllTag).layer(0)->caches.pending.empty());
        live.advance(*changes);
        LiveCaches::copy_counts(*changes, agg);
        return changes;
    };
    add({0, 1});
    auto first = flush();
    CHECK(first->tag(kAllTag).layer(0)->caches.caches.at(0).hits == 0);
    add({0, 1});
    add({2, 3});
    auto second = flush();
    const OnlineCache& c = second->tag(kAllTag).layer(0)->caches.caches.at(0);
    CHECK(c.accesses == 6);
    CHECK(c.hits == 2);
    CHECK(agg.tag(kAllTag).layer(0)->caches.caches.at(0).hits == 2);  // the gauges' copy
    // A flush without new records of the layer leaves its counters.
    flush();
    CHECK(agg.tag(kAllTag).layer(0)->caches.caches.at(0).accesses == 6);
}
