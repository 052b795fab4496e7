// tracing/request_sets: working sets per request and layer, with known answers.
#include <catch2/catch.hpp>

#include "tracing/request_sets.hpp"
#include "tracing_records.hpp"

using namespace moe;
using moe::test::Rec;

namespace {
RequestWorkingSets sets(const std::vector<Rec>& recs) {
    RequestWorkingSets w;
    for (const Rec& r : recs)
        w.add(r.view());
    return w;
}
}  // namespace

TEST_CASE("requests: tokens, working set and its growth per (request, layer)") {
    const RequestWorkingSets w = sets({
        {"r1", 0, 0, {0, 1}},
        {"r1", 1, 0, {1, 2}},  // after 2 tokens: {0, 1, 2}
        {"r1", 2, 0, {0, 2}},
        {"r1", 3, 0, {3, 4}},  // after 4: 5 experts
        {"r1", 4, 0, {3, 0}},
        {"r2", 0, 0, {7, 6}},
        {"r1", 0, 1, {5, 6}},
        {"", 0, 0, {1, 2}},  // no request: only counted
    });
    REQUIRE(w.requests().size() == 2);
    CHECK(w.requests()[0].id == "r1");
    CHECK(w.requests()[1].id == "r2");
    CHECK(w.without_request() == 1);
    const auto rows = w.rows();
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].request == 0);
    CHECK(rows[0].layer == 0);
    CHECK(rows[0].tokens == 5);
    CHECK(rows[0].working_set == 5);
    CHECK(rows[0].growth == std::vector<uint32_t>{2, 3, 5});
    CHECK(rows[1].layer == 1);
    CHECK(rows[1].working_set == 2);
    CHECK(rows[2].request == 1);
    CHECK(rows[2].growth == std::vector<uint32_t>{2});
}

TEST_CASE("requests: percentiles, growth curve and capacity shares across requests") {
    // Four requests at layer 0 with working sets 2, 5, 9 and 10 (one expert a token, each
    // new), one at layer 1.
    std::vector<Rec> recs;
    const int sizes[] = {2, 5, 9, 10};
    for (int q = 0; q < 4; ++q)
        for (int t = 0; t < sizes[q]; ++t)
            recs.push_back({"q" + std::to_string(q), t, 0, {t}});
    recs.push_back({"q0", 0, 1, {3}});
    const RequestWorkingSets w = sets(recs);
    const std::vector<uint32_t> caps = {4, 9};
    const auto layers = summarize_working_sets(w.rows(), caps);
    REQUIRE(layers.size() == 3);
    const LayerWorkingSets& l0 = layers[0];
    CHECK(l0.layer == 0);
    CHECK(l0.requests == 4);
    CHECK(l0.p50 == 7);  // numpy.percentile([2, 5, 9, 10], 50)
    CHECK(l0.p90 == Approx(9.7));
    CHECK(l0.max == 10);
    CHECK(l0.mean == 6.5);
    // One new expert a token: after n tokens, n experts, for the requests that have n.
    REQUIRE(l0.growth.size() == 4);  // n = 1, 2, 4, 8
    CHECK(l0.growth[2].n == 4);
    CHECK(l0.growth[2].mean_working_set == 4);
    CHECK(l0.growth[2].count == 3);
    CHECK(l0.growth[3].count == 2);
    REQUIRE(l0.over_capacity.size() == 2);
    CHECK(l0.over_capacity[0].share == 0.75);  // > 4: 5, 9, 10
    CHECK(l0.over_capacity[1].share == 0.25);  // > 9: 10
    CHECK(layers[1].layer == 1);
    CHECK(layers[1].requests == 1);
    CHECK(layers[1].p90 == 1);
    const LayerWorkingSets& all = layers[2];
    CHECK(all.layer == -1);
    CHECK(all.requests == 5);  // (request, layer)s
    CHECK(all.max == 10);
}

TEST_CASE("requests: a request's tokens at a layer repeat experts without growing") {
    std::vector<Rec> recs;
    for (int t = 0; t < 100; ++t)
        recs.push_back({"same", t, 3, {t % 3, 3 + t % 2}});
    const auto rows = sets(recs).rows();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].working_set == 5);
    CHECK(rows[0].tokens == 100);
    CHECK(rows[0].growth == std::vector<uint32_t>{2, 4, 5, 5, 5, 5, 5});  // n = 1 .. 64
}

TEST_CASE("requests: the same id in two scopes is two requests") {
    RequestWorkingSets w;
    w.add(Rec{"0", 0, 0, {1}}.view(), "gsm8k");
    w.add(Rec{"0", 0, 0, {2}}.view(), "humaneval");
    w.add(Rec{"0", 1, 0, {3}}.view(), "gsm8k");
    REQUIRE(w.requests().size() == 2);
    CHECK(w.requests()[1].scope == "humaneval");
    const auto rows = w.rows();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].working_set == 2);
    CHECK(rows[1].working_set == 1);
}

TEST_CASE("requests: nothing to summarise") {
    const auto layers = summarize_working_sets({}, std::vector<uint32_t>{4});
    REQUIRE(layers.size() == 1);
    CHECK(layers[0].requests == 0);
}
