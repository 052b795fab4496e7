// The daemon's live token following (daemon/live_affinity, daemon/live_diff): the tables and
// sums it keeps in the aggregates equal the file analyses' (tracing/), survive a save and a
// load, are charged to the memory budget, and stay bounded by their windows.
#include <catch2/catch.hpp>

#include <random>

#include "daemon/live_affinity.hpp"
#include "daemon/live_diff.hpp"
#include "storage/store.hpp"
#include "temp_dir.hpp"
#include "tracing_records.hpp"

using namespace moe;

namespace {

// Tokens of `requests` requests over `layers` layers, top-2 of 8 experts, layer-major per
// request (as the Mixtral traces are), the next layer's first expert drawn near the last.
std::vector<test::Rec> traced_tokens(int requests, int per_request, int layers, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<test::Rec> v;
    for (int q = 0; q < requests; ++q)
        for (int l = 0; l < layers; ++l)
            for (int t = 0; t < per_request; ++t) {
                const int a = static_cast<int>((t * 3 + l + rng() % 2) % 8);
                const int b = static_cast<int>((a + 1 + rng() % 7) % 8);
                v.push_back({"req" + std::to_string(q), t, l, {a, b}});
            }
    return v;
}

void count_records(Aggregates& agg, const std::string& tag, const std::vector<test::Rec>& recs) {
    const TagId t = agg.tag_id(tag);
    for (const test::Rec& r : recs)
        REQUIRE(!agg.add_routing(t, r.view()));
}

void same_table(const TransitionTable& a, const TransitionTable& b) {
    REQUIRE(a.num_experts() == b.num_experts());
    CHECK(a.tokens() == b.tokens());
    CHECK(a.total() == b.total());
    CHECK(a.cells() == b.cells());
    CHECK(a.from_counts() == b.from_counts());
    CHECK(a.to_counts() == b.to_counts());
}

}  // namespace

TEST_CASE("live affinity: per tag the tables of LayerAffinity, and all = their sum") {
    Aggregates agg;
    LiveAffinity live(agg, LiveAffinity::kDefaultWindow);
    agg.set_routing_tap([&](TagId t, const RoutingRecord& r, double) { live.add(t, r); });
    const auto a = traced_tokens(3, 20, 4, 1), b = traced_tokens(2, 30, 4, 2);
    // The shadow's tokens have the same request ids: they never pair across tags.
    count_records(agg, "A", a);
    count_records(agg, "B", b);
    LayerAffinity ref_a, ref_b;
    for (const test::Rec& r : a)
        ref_a.add(r.view());
    for (const test::Rec& r : b)
        ref_b.add(r.view());
    const auto& ta = agg.tag(*agg.find_tag("A")).transitions;
    const auto& tb = agg.tag(*agg.find_tag("B")).transitions;
    const auto& all = agg.tag(kAllTag).transitions;
    REQUIRE(ta.size() == 3);
    REQUIRE(tb.size() == 3);
    REQUIRE(all.size() == 3);
    for (int32_t l = 0; l < 3; ++l) {
        same_table(ta.at(l), ref_a.tables().at(l));
        same_table(tb.at(l), ref_b.tables().at(l));
        TransitionTable sum = ref_a.tables().at(l);
        sum.add(ref_b.tables().at(l));
        same_table(all.at(l), sum);
        CHECK(mutual_information_bits(ta.at(l)) == mutual_information_bits(ref_a.tables().at(l)));
    }
    const auto c = live.counters();
    CHECK(c.pairs == ref_a.pairs() + ref_b.pairs());
    CHECK(c.duplicates == 0);
    CHECK(c.refused == 0);
    CHECK(live.prometheus().find("moescope_affinity_mutual_information_bits{tag=\"A\","
                                 "from_layer=\"0\",to_layer=\"1\"}") != std::string::npos);
}

TEST_CASE("live affinity: tables over the memory budget are refused and counted") {
    AnalyticsOptions o;
    o.memory_budget = 64 << 10;  // room for the layers, not for a window of 2^16 records
    Aggregates agg(o);
    LiveAffinity live(agg, LiveAffinity::kDefaultWindow);
    agg.set_routing_tap([&](TagId t, const RoutingRecord& r, double) { live.add(t, r); });
    const auto recs = traced_tokens(1, 10, 3, 3);
    count_records(agg, "", recs);
    CHECK(agg.tag(kAllTag).transitions.empty());
    CHECK(live.counters().refused == recs.size());

    // A table that does not fit: the pair is counted in neither "all" nor its tag.
    Aggregates small(o);
    const std::vector<int32_t> x = {0, 4095}, y = {1, 2};
    CHECK(!small.add_transition(small.tag_id("t"), 0, x, y));
    CHECK(small.tag(kAllTag).transitions.empty());
    CHECK(small.add_transition(small.tag_id("t"), 0, std::vector<int32_t>{0, 1}, y));
    CHECK(small.approx_bytes() >= 2 * TransitionTable::bytes(3));
}

TEST_CASE("live diff: the per-layer sums of RoutingDiff, bounded by the window") {
    Aggregates agg;
    LiveDiffs live(agg, {{"A", "B"}}, 1000);
    agg.set_routing_tap([&](TagId t, const RoutingRecord& r, double) { live.add(t, r); });
    auto a = traced_tokens(2, 25, 3, 4), b = a;
    for (size_t i = 0; i < b.size(); i += 3)
        b[i].experts[0] = (b[i].experts[0] + 1) % 8 == b[i].experts[1] ? (b[i].experts[0] + 2) % 8
                                                                       : (b[i].experts[0] + 1) % 8;
    for (test::Rec& r : b)
        r.phase = "decode";  // B@decode: a phase of run B
    RoutingDiff ref(1000);
    for (size_t i = 0; i < a.size(); ++i) {
        count_records(agg, "A", {a[i]});
        count_records(agg, "B@decode", {b[i]});
        ref.add(DiffSide::a, a[i].view());
        ref.add(DiffSide::b, b[i].view());
    }
    live.publish();
    const auto& got = agg.live_diffs().at({"A", "B"});
    REQUIRE(got.size() == ref.layers().size());
    for (const auto& [layer, d] : ref.layers()) {
        const DiffLayerCounts& g = got.at(layer);
        CHECK(g.agreement.aligned == d.agreement.aligned);
        CHECK(g.agreement.top1 == d.agreement.top1);
        CHECK(g.agreement.exact == d.agreement.exact);
        CHECK(g.agreement.overlap == d.agreement.overlap);
        CHECK(g.agreement.jaccard == d.agreement.jaccard);
        CHECK(g.only_a == 0);
        CHECK(g.dirty);
    }
    CHECK(live.prometheus().find("moescope_diff_overlap{a=\"A\",b=\"B\",layer=\"0\"}") !=
          std::string::npos);

    // Records of A whose partner never comes: at most the window waits, the rest is evicted.
    Aggregates agg2;
    LiveDiffs lonely(agg2, {{"A", "B"}}, 100);
    agg2.set_routing_tap([&](TagId t, const RoutingRecord& r, double) { lonely.add(t, r); });
    const auto many = traced_tokens(10, 100, 1, 5);
    count_records(agg2, "A", many);
    lonely.publish();
    const DiffLayerCounts& l0 = agg2.live_diffs().at({"A", "B"}).at(0);
    CHECK(l0.only_a == many.size() - 100);
    CHECK(l0.evicted == many.size() - 100);
    CHECK(lonely.prometheus().find("moescope_diff_waiting_records{a=\"A\",b=\"B\"} 100") !=
          std::string::npos);
}

TEST_CASE("live transitions and diffs are saved, loaded, merged and continue from the base") {
    test::TempDir dir;
    const std::string db = dir.file("t.db");
    Aggregates agg;
    {
        LiveAffinity live(agg, 1000);
        LiveDiffs diffs(agg, {{"A", "B"}}, 1000);
        agg.set_routing_tap([&](TagId t, const RoutingRecord& r, double) {
            live.add(t, r);
            diffs.add(t, r);
        });
        const auto a = traced_tokens(2, 10, 3, 6);
        count_records(agg, "A", a);
        count_records(agg, "B", a);
        diffs.publish();
        Store s = Store::open_for_writing(db);
        s.save(agg, {});
    }
    Aggregates back;
    Store::open_read_only(db).load(back);
    for (TagId t = 0; t < agg.tag_count(); ++t) {
        const auto& mine = agg.tag(t).transitions;
        const auto& theirs = back.tag(*back.find_tag(agg.tag(t).name)).transitions;
        REQUIRE(mine.size() == theirs.size());
        for (const auto& [l, table] : mine)
            same_table(table, theirs.at(l));
    }
    const auto& d0 = agg.live_diffs().at({"A", "B"});
    const auto& d1 = back.live_diffs().at({"A", "B"});
    REQUIRE(d0.size() == d1.size());
    for (const auto& [l, d] : d0) {
        CHECK(d1.at(l).agreement.aligned == d.agreement.aligned);
        CHECK(d1.at(l).agreement.overlap == d.agreement.overlap);
        CHECK(!d1.at(l).dirty);
    }
    // A query that reads neither (every command but affinity and diff) skips them: they
    // are E x E per layer pair and tag.
    Aggregates lean;
    Store::open_read_only(db).load(lean, Store::Tracing::skip);
    CHECK(lean.tag(kAllTag).global.tokens == agg.tag(kAllTag).global.tokens);
    CHECK(lean.tag(kAllTag).global.tokens > 0);
    for (TagId t = 0; t < lean.tag_count(); ++t)
        CHECK(lean.tag(t).transitions.empty());
    CHECK(lean.live_diffs().empty());
    // A restarted daemon adds to what was stored.
    LiveDiffs again(back, {{"A", "B"}}, 1000);
    back.set_routing_tap([&](TagId t, const RoutingRecord& r, double) { again.add(t, r); });
    const auto more = traced_tokens(1, 5, 3, 7);
    for (test::Rec& r : std::vector<test::Rec>(more)) {
        r.request = "new";
        count_records(back, "A", {r});
        count_records(back, "B", {r});
    }
    again.publish();
    CHECK(back.live_diffs().at({"A", "B"}).at(0).agreement.aligned ==
          d0.at(0).agreement.aligned + 5);
    // merge adds them.
    Aggregates m;
    REQUIRE(!m.merge(agg));
    REQUIRE(!m.merge(agg));
    CHECK(m.tag(kAllTag).transitions.at(0).tokens() ==
          2 * agg.tag(kAllTag).transitions.at(0).tokens());
    CHECK(m.live_diffs().at({"A", "B"}).at(1).agreement.aligned == 2 * d0.at(1).agreement.aligned);
}

TEST_CASE("diff pairs of moescoped --diff A:B") {
    CHECK(parse_diff_pair("prod:shadow")->b == "shadow");
    CHECK(parse_diff_pair("a:b:c")->a == "a:b");
    CHECK(!parse_diff_pair("a"));
    CHECK(!parse_diff_pair(":b"));
    CHECK(!parse_diff_pair("a:"));
    CHECK(!parse_diff_pair("a:a"));
}

TEST_CASE("a live stream's last-layer records leave the window as unfollowed, not evicted") {
    // Token after token through 4 layers: each token's layer 3 record waits for nothing.
    LayerAffinity a(8, false);
    for (int t = 0; t < 100; ++t)
        for (int l = 0; l < 4; ++l)
            a.add(test::Rec{"r", t, l, {t % 8, (t + l + 1) % 8}}.view());
    CHECK(a.pairs() == 300);
    CHECK(a.evicted() == 0);
    CHECK(a.unfollowed() == 100 - 8);
    CHECK(a.waiting() <= 8 + LayerAffinity::kLateWindow);
}
