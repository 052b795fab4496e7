// tracing/layer_transitions and layer_affinity: planted transitions between layers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "tracing/layer_affinity.hpp"
#include "tracing_records.hpp"

using namespace moe;
using moe::test::Rec;

namespace {

// `tokens` tokens of one request over `layers` layers, top-1 of 8 experts: layer 0 picks
// t % 8, and each next layer follows the previous expert a to (a + 3) % 8. Layer-major.
std::vector<Rec> planted(int tokens, int layers) {
    std::vector<Rec> v;
    for (int l = 0; l < layers; ++l)
        for (int t = 0; t < tokens; ++t)
            v.push_back({"r", t, l, {(t + 3 * l) % 8}});
    return v;
}

LayerAffinity follow(const std::vector<Rec>& recs, size_t window = LayerAffinity::kDefaultWindow) {
    LayerAffinity a(window);
    for (const Rec& r : recs)
        a.add(r.view());
    a.finish();
    return a;
}

}  // namespace

TEST_CASE("affinity: a planted permutation gives P(b|a) = 1, lift E and MI log2 E") {
    const LayerAffinity a = follow(planted(80, 3));
    REQUIRE(a.tables().size() == 2);
    CHECK(a.pairs() == 160);
    CHECK(a.unfollowed() == 80);  // the last layer's records
    const TransitionTable& t = a.tables().at(0);
    CHECK(t.tokens() == 80);
    CHECK(t.total() == 80);
    const auto cells = transitions(t);
    REQUIRE(cells.size() == 8);
    for (const Transition& c : cells) {
        CHECK(c.b == (c.a + 3) % 8);
        CHECK(c.count == 10);
        CHECK(c.p_b_given_a == 1);
        CHECK(c.lift == 8);
    }
    CHECK(mutual_information_bits(t) == Approx(3.0));
    CHECK(top_lift(t, 3).size() == 3);
    CHECK(top_lift(t, 3, 11).empty());  // no cell counted 11 times
}

TEST_CASE("affinity: independent layers have lift 1 and no mutual information") {
    // Layer 0 picks t % 4, layer 1 picks (t / 4) % 4: every pair equally often.
    std::vector<Rec> recs;
    for (int t = 0; t < 64; ++t) {
        recs.push_back({"r", t, 0, {t % 4}});
        recs.push_back({"r", t, 1, {(t / 4) % 4}});
    }
    const LayerAffinity a = follow(recs);
    const TransitionTable& t = a.tables().at(0);
    for (const Transition& c : transitions(t)) {
        CHECK(c.count == 4);
        CHECK(c.p_b_given_a == 0.25);
        CHECK(c.lift == 1);
    }
    CHECK(mutual_information_bits(t) == Approx(0.0).margin(1e-12));
}

TEST_CASE("affinity: top-k selections count every (a, b) of the two sets") {
    std::vector<Rec> recs = {
        {"r", 0, 0, {0, 1}}, {"r", 0, 1, {2, 3}}, {"r", 1, 0, {0, 4}}, {"r", 1, 1, {2, 5}}};
    const LayerAffinity a = follow(recs);
    const TransitionTable& t = a.tables().at(0);
    CHECK(t.count(0, 2) == 2);
    CHECK(t.count(1, 3) == 1);
    CHECK(t.count(4, 5) == 1);
    CHECK(t.count(1, 5) == 0);
    CHECK(t.total() == 8);
    CHECK(t.from_tokens(0) == 2);
    CHECK(t.to_tokens(2) == 2);
    const auto cells = transitions(t);
    const auto c02 = std::find_if(cells.begin(), cells.end(),
                                  [](const Transition& c) { return c.a == 0 && c.b == 2; });
    REQUIRE(c02 != cells.end());
    CHECK(c02->p_b_given_a == 1);
    CHECK(c02->lift == 1);  // 2 * 2 / (2 * 2)
    const auto c13 = std::find_if(cells.begin(), cells.end(),
                                  [](const Transition& c) { return c.a == 1 && c.b == 3; });
    CHECK(c13->lift == 2);  // 1 * 2 / (1 * 1)
}

TEST_CASE("affinity: the table grows with the ids it sees, keeping its counts") {
    TransitionTable t;
    const std::vector<int32_t> a = {1}, b = {0}, c = {30}, d = {7};
    t.add(a, b);
    t.add(c, d);
    t.add(a, b);
    CHECK(t.num_experts() == 31);
    CHECK(t.count(1, 0) == 2);
    CHECK(t.count(30, 7) == 1);
    CHECK(t.count(31, 0) == 0);
}

TEST_CASE("affinity: records not followed are counted, the window bounds what waits") {
    std::vector<Rec> recs = planted(10, 2);
    recs.insert(recs.begin() + 4, {"r", 3, 0, {5}});  // token 3's layer 0 again, while waiting
    recs.push_back({"", -1, 0, {5}});                 // no position
    const LayerAffinity a = follow(recs);
    CHECK(a.duplicates() == 1);
    CHECK(a.unplaced() == 1);
    CHECK(a.pairs() == 10);
    // Window 4: layer 0's tokens 0-5 are pushed out before layer 1 comes.
    const LayerAffinity small = follow(planted(10, 2), 4);
    // 20 records through a window of 4: 16 pushed out, none paired (each layer 1 record
    // comes after its layer 0 record left), the last 4 waiting at the end.
    CHECK(small.evicted() == 16);
    CHECK(small.pairs() == 0);
    CHECK(small.unfollowed() == 4);
}

TEST_CASE("affinity: records counted late (data-quality holds) still meet their layers") {
    // Token 0: layers 1 and 2 before 0. Token 1: layer 2 before 1 (after 0). Token 2: layer 1
    // before 0, then 2.
    std::vector<Rec> recs = {{"r", 0, 1, {1}}, {"r", 0, 2, {2}}, {"r", 0, 0, {0}},
                             {"r", 1, 0, {0}}, {"r", 1, 2, {2}}, {"r", 1, 1, {1}},
                             {"r", 2, 1, {1}}, {"r", 2, 0, {0}}, {"r", 2, 2, {2}}};
    // Places in the log, as ingest numbers them: token-major passes.
    for (Rec& r : recs) {
        r.pass = r.token;
        r.row = 0;
    }
    const LayerAffinity a = follow(recs);
    CHECK(a.pairs() == 6);
    CHECK(a.tables().at(0).count(0, 1) == 3);
    CHECK(a.tables().at(1).count(1, 2) == 3);
    CHECK(a.unfollowed() == 3);  // the layer 2 records
    CHECK(a.duplicates() == 0);
    CHECK(a.sequences().at(0).log_order() == std::vector<size_t>{0, 1, 2});
}

TEST_CASE("affinity: pairs are evaluated by their place in the log, unplaced ones first") {
    PairSequence s;
    const std::vector<int32_t> x = {1};
    s.add(x, x, 3, 0);
    s.add(x, x, 1, 2);
    s.add(x, x, 1, 1);
    s.add(x, x);  // no place
    s.add(x, x, 0, 5);
    CHECK(s.log_order() == std::vector<size_t>{3, 4, 2, 1, 0});
}

TEST_CASE("prefetch: a planted successor is predicted, the static guess is not") {
    // Layer 0 picks 2 of 16 experts at random; layer 1 picks f(a1), f(a2) with
    // f(a) = (5a + 1) % 16: fitting learns f; the 2 hottest experts of layer 1 catch only
    // their share.
    std::mt19937 rng(7);
    std::vector<Rec> recs;
    for (int t = 0; t < 400; ++t) {
        const int x = static_cast<int>(rng() % 16);
        int y = static_cast<int>(rng() % 15);
        if (y >= x) ++y;
        recs.push_back({"r", t, 0, {x, y}});
        recs.push_back({"r", t, 1, {(5 * x + 1) % 16, (5 * y + 1) % 16}});
    }
    const LayerAffinity a = follow(recs);
    const std::vector<uint32_t> mult = {1, 2, 4};
    const PrefetchEvaluation ev = evaluate_prefetch(a.sequences().at(0), 0.5, mult);
    CHECK(ev.fitted == 200);
    CHECK(ev.scored == 200);
    REQUIRE(ev.recall.size() == 3);
    CHECK(ev.recall[0].m == 2);
    CHECK(ev.recall[2].m == 8);
    CHECK(ev.recall[0].recall == 1);  // every (a, f(a)) seen in the first half
    CHECK(ev.recall[0].static_recall < 0.3);
    CHECK(ev.recall[2].static_recall < 0.7);
    CHECK(ev.recall[2].static_recall > ev.recall[0].static_recall);
}

TEST_CASE("prefetch: m is at most E, and nothing to score gives NaN") {
    std::vector<Rec> recs;
    for (int t = 0; t < 10; ++t) {
        recs.push_back({"r", t, 0, {t % 2, 2}});
        recs.push_back({"r", t, 1, {1, 0}});
    }
    const LayerAffinity a = follow(recs);
    const std::vector<uint32_t> mult = {4};
    const PrefetchEvaluation ev = evaluate_prefetch(a.sequences().at(0), 0.5, mult);
    CHECK(ev.recall[0].m == 3);  // 4 * k = 8 > E = 3
    CHECK(ev.recall[0].recall == 1);
    CHECK(ev.recall[0].static_recall == 1);
    const PrefetchEvaluation none = evaluate_prefetch(a.sequences().at(0), 1.0, mult);
    CHECK(none.scored == 0);
    CHECK(std::isnan(none.recall[0].recall));
}
