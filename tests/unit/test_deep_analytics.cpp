#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <random>

#include "analytics/aggregates.hpp"
#include "analytics/cooc_figures.hpp"
#include "analytics/layer_correlation.hpp"
#include "analytics/tag_compare.hpp"
#include "cli/time_spec.hpp"

using namespace moe;

namespace {
constexpr int64_t kT0 = 1'800'000'000;  // a plausible time, a multiple of 60 (bad_timestamp)
void add_routing(Aggregates& agg, int32_t layer, std::vector<int32_t> experts, TagId tag = kAllTag,
         std::vector<float> logits = {}, double ts = NAN) {
    RoutingRecord r;
    r.layer = layer;
    r.experts = experts;
    r.logits = logits;
    r.timestamp = ts;
    REQUIRE_FALSE(agg.add_routing(tag, r).has_value());
}
}  // namespace

TEST_CASE("co-occurrence counts every unordered pair once per record, across resizes") {
    CoocMatrix m;
    m.resize(3);
    m.add(std::vector<int32_t>{2, 0, 1});
    m.resize(6);  // a new expert id appears: counts keep their pairs
    m.add(std::vector<int32_t>{5, 2});
    CHECK(m.get(0, 2) == 1);
    CHECK(m.get(2, 0) == 1);
    CHECK(m.get(1, 2) == 1);
    CHECK(m.get(2, 5) == 1);
    CHECK(m.get(0, 5) == 0);
    CHECK(m.get(3, 3) == 0);
    CHECK(m.counts().size() == 15);
    CoocMatrix other;
    other.resize(6);
    other.add(std::vector<int32_t>{0, 2});
    m.merge(other);
    CHECK(m.get(0, 2) == 2);
}

TEST_CASE("co-occurrence equals a pair count by hand for every k, E and across spills") {
    // Distinct ids in random rank order (k = 8 has its own path), E up to the largest kept,
    // more records than a 16-bit counter holds, so spills happen in between.
    std::mt19937 rng(28);
    for (const size_t E : {8u, 9u, 128u, 257u, 512u}) {
        for (const size_t k : {1u, 2u, 4u, 7u, 8u, 10u}) {
            if (k > E) continue;
            CoocMatrix m;
            m.resize(E);
            std::vector<uint64_t> want(E * E, 0);
            std::vector<int32_t> pool(E);
            std::iota(pool.begin(), pool.end(), 0);
            const int records = E <= 9 ? 70000 : 3000;  // few ids: pairs overflow 16 bits
            for (int n = 0; n < records; ++n) {
                for (size_t i = 0; i < k; ++i)  // a partial shuffle: k distinct ids
                    std::swap(pool[i], pool[i + rng() % (E - i)]);
                const std::vector<int32_t> ids(pool.begin(), pool.begin() + k);
                m.add(ids);
                for (size_t i = 0; i < k; ++i)
                    for (size_t j = 0; j < k; ++j)
                        if (i != j) ++want[ids[i] * E + ids[j]];
            }
            INFO("E " << E << " k " << k);
            const std::vector<uint64_t> all = m.counts();
            CHECK(std::accumulate(all.begin(), all.end(), uint64_t{0}) ==
                  static_cast<uint64_t>(records) * k * (k - 1) / 2);
            for (size_t a = 0; a < E; ++a)
                for (size_t b = 0; b < E; ++b)
                    if (a != b && m.get(a, b) != want[a * E + b]) FAIL(a << " " << b);
        }
    }
}

TEST_CASE("P(b|a), Jaccard and lift from docs/FIGURES.md") {
    Aggregates agg;
    add_routing(agg, 0, {0, 1});
    add_routing(agg, 0, {0, 2});
    add_routing(agg, 0, {1, 0});
    add_routing(agg, 0, {2, 3});
    const auto pairs = cooc_pairs(*agg.tag(kAllTag).layer(0), CoocOrder::count);
    REQUIRE(pairs.size() == 3);
    const CoocPair& p = pairs[0];  // {0,1}: C = 2, h0 = 3, h1 = 2, T = 4
    CHECK(p.a == 0);
    CHECK(p.b == 1);
    CHECK(p.count == 2);
    CHECK(p.p_b_given_a == Approx(2.0 / 3));
    CHECK(p.p_a_given_b == Approx(1.0));
    CHECK(p.jaccard == Approx(2.0 / (3 + 2 - 2)));
    CHECK(p.lift == Approx(2.0 * 4 / (3 * 2)));
    const auto by_lift = cooc_pairs(*agg.tag(kAllTag).layer(0), CoocOrder::lift);
    CHECK(by_lift[0].a == 2);  // {2,3}: lift = 1 * 4 / (2 * 1) = 2
    CHECK(by_lift[0].lift == Approx(2.0));
}

TEST_CASE("layer correlation pairs layers by number and skips absent ones") {
    Aggregates agg;
    for (int i = 0; i < 3; ++i)
        add_routing(agg, 0, {0, 1});
    add_routing(agg, 0, {2, 3});
    for (int i = 0; i < 3; ++i)
        add_routing(agg, 1, {0, 1});  // same pattern, other scale
    add_routing(agg, 1, {2, 3});
    add_routing(agg, 1, {2, 3});
    add_routing(agg, 3, {3, 2});  // layer 2 absent
    const auto rs = layer_correlations(agg.tag(kAllTag), 4, 3);
    // pairs: (0, 1) delta 1, (0, 3) delta 3, (1, 3) delta 2
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].layer == 0);
    CHECK(rs[0].delta == 1);
    // a_0 = (.75,.75,.25,.25), a_1 = (.6,.6,.4,.4): perfectly correlated
    CHECK(rs[0].r == Approx(1.0));
    CHECK(rs[1].delta == 3);
    CHECK(rs[1].r == Approx(-1.0));  // a_3 = (0,0,1,1)
    const auto p = periodic_summary(rs, 3);
    CHECK(p.n == 1);
    CHECK(p.mean == Approx(-1.0));
    CHECK(p.std == Approx(0.0));
    CHECK(rs[2].layer == 1);
    CHECK(rs[2].delta == 2);
    CHECK(rs[2].r == Approx(-1.0));
    CHECK(periodic_summary(rs, 7).n == 0);
    CHECK(std::isnan(periodic_summary(rs, 7).mean));
    CHECK(std::isnan(pearson(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3})));
}

TEST_CASE("Jensen-Shannon divergence: 0 for the same shares, 1 bit for disjoint ones") {
    const std::vector<uint64_t> a = {10, 20, 0, 0}, b = {1, 2, 0, 0}, c = {0, 0, 5, 5};
    CHECK(js_divergence_bits(a, b) == Approx(0.0).margin(1e-12));
    CHECK(js_divergence_bits(a, c) == Approx(1.0));
    // p = (1/2, 1/2), q = (1, 0): m = (3/4, 1/4)
    const double want = 0.5 * (0.5 * std::log2(0.5 / 0.75) + 0.5 * std::log2(0.5 / 0.25)) +
                        0.5 * (1.0 * std::log2(1.0 / 0.75));
    CHECK(js_divergence_bits(std::vector<uint64_t>{1, 1}, std::vector<uint64_t>{4, 0}) ==
          Approx(want));
    CHECK(std::isnan(js_divergence_bits(std::vector<uint64_t>{0, 0}, a)));
}

TEST_CASE("tag comparison: share ratio and difference per expert, ordered by |difference|") {
    Aggregates agg;
    const TagId ko = agg.tag_id("ko"), en = agg.tag_id("en");
    add_routing(agg, 0, {0, 1}, ko);
    add_routing(agg, 0, {0, 2}, ko);
    add_routing(agg, 0, {1, 2}, en);
    add_routing(agg, 0, {1, 3}, en);
    agg.pad_to_num_experts();
    const auto cs = compare_tags(agg.tag(ko), agg.tag(en), agg.num_experts());
    REQUIRE(cs.size() == 2);  // layer 0 and all layers combined
    CHECK(cs[0].layer == 0);
    CHECK(cs[1].layer == -1);
    const auto& top = cs[0].experts[0];
    CHECK(top.expert == 0);  // 50 % in ko, 0 in en
    CHECK(top.share_a == Approx(0.5));
    CHECK(std::isinf(top.ratio));
    CHECK(cs[0].experts[1].diff == Approx(-0.25));  // expert 1: 25 % vs 50 %
    CHECK(cs[0].experts[1].ratio == Approx(0.5));
}

TEST_CASE("logit statistics: per-expert moments, softmax and top-k mass") {
    Aggregates agg;
    add_routing(agg, 0, {0, 1}, kAllTag, {2.0f, 1.0f, 0.0f, -1.0f});
    add_routing(agg, 0, {1, 2}, kAllTag, {0.0f, 3.0f, 1.0f, 0.0f});
    const LogitStats& ls = agg.tag(kAllTag).layer(0)->logits;
    CHECK(ls.records == 2);
    REQUIRE(ls.per_expert.size() == 4);
    CHECK(ls.per_expert[1].mean == Approx(2.0));
    CHECK(ls.per_expert[0].std_pop() == Approx(1.0));
    CHECK(ls.logits.total() == 8);
    CHECK(ls.probs.total() == 8);
    CHECK(ls.topk_prob_mass.total() == 2);
    const double z = std::exp(2) + std::exp(1) + 1 + std::exp(-1);
    const double mass = (std::exp(2) + std::exp(1)) / z;  // 0.84: bin [0.84, 0.86)
    CHECK(ls.topk_prob_mass.counts[1 + static_cast<size_t>(mass / 0.02)] >= 1);
    // Logits whose length disagrees with the expert count are rejected.
    MetaRecord m;
    m.num_experts = 4;
    REQUIRE_FALSE(agg.apply_meta(m));
    RoutingRecord bad;
    bad.layer = 0;
    const std::vector<int32_t> ex = {0, 1};
    const std::vector<float> lg = {1, 2, 3};
    bad.experts = ex;
    bad.logits = lg;
    CHECK(agg.add_routing(kAllTag, bad) == RejectReason::wrong_vector_length);
}

TEST_CASE("timeline buckets and --since/--until windows") {
    AnalyticsOptions o;
    o.bucket_seconds = 60;
    Aggregates agg(o);
    const TagId t = agg.tag_id("x");
    add_routing(agg, 0, {0, 1}, t, {}, kT0 + 1000.5);  // bucket kT0 + 960
    add_routing(agg, 0, {0, 2}, t, {}, kT0 + 1019.0);  // bucket kT0 + 960
    add_routing(agg, 1, {1, 2}, t, {}, kT0 + 1020.0);  // bucket kT0 + 1020
    add_routing(agg, 1, {3, 2}, t, {}, NAN);           // untimed: in totals only
    const auto& b = agg.timeline().buckets();
    CHECK(b.at({t, 0, kT0 + 960}).tokens == 2);
    CHECK(b.at({t, 0, kT0 + 960}).hits[0] == 2);
    CHECK(b.at({kAllTag, -1, kT0 + 1020}).tokens == 1);
    CHECK(b.count({t, 1, kT0 + 960}) == 0);
    agg.restrict_to_window(kT0 + 1020, kT0 + 2000);
    CHECK(agg.windowed());
    CHECK(agg.tag(t).layer(0) == nullptr);
    CHECK(agg.tag(t).layer(1)->tokens == 1);
    CHECK(agg.tag(t).global.tokens == 1);
    CHECK(agg.tag(kAllTag).layer(1)->hits == std::vector<uint64_t>{0, 1, 1, 0});
}

TEST_CASE("time specifications for --since/--until") {
    const int64_t now = 1'800'000'000;
    CHECK(parse_time_spec("now", now) == now);
    CHECK(parse_time_spec("-2h", now) == now - 7200);
    CHECK(parse_time_spec("-30m", now) == now - 1800);
    CHECK(parse_time_spec("-1d", now) == now - 86400);
    CHECK(parse_time_spec("1700000000", now) == 1'700'000'000);
    CHECK(parse_time_spec("2026-11-23T06:00:00Z", now) == 1'795'413'600);
    CHECK(parse_time_spec("2026-11-23 06:00", now) == 1'795'413'600);
    CHECK_FALSE(parse_time_spec("yesterday", now));
    CHECK_FALSE(parse_time_spec("-5x", now));
}
