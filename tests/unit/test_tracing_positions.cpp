// tracing/position_routing: routing figures per position bucket and phase, computed with
// the layer figures' own functions from hit counts the test knows.
#include <catch2/catch.hpp>

#include "analytics/tag_compare.hpp"
#include "tracing/position_routing.hpp"
#include "tracing_records.hpp"

using namespace moe;
using moe::test::Rec;

namespace {
const GroupFigures& find(const std::vector<GroupFigures>& v, std::string_view kind,
                         std::string_view group, int32_t layer) {
    for (const GroupFigures& f : v)
        if (f.kind == kind && f.group == group && f.layer == layer) return f;
    FAIL("no group " << kind << " " << group << " " << layer);
    throw;
}
}  // namespace

TEST_CASE("positions: the first token's planted specialisation shows against the whole") {
    // 8 experts, top-2. Position 0 always picks {0, 1}; positions 1-15 cycle over pairs
    // {2j, 2j + 1}; position 20 picks {6, 7}. Prefill: positions < 10.
    PositionRouting p;
    std::vector<Rec> recs;
    for (int q = 0; q < 4; ++q)
        for (int t = 0; t < 16; ++t) {
            const int j = t == 0 ? 0 : t % 4;
            recs.push_back({"q" + std::to_string(q),
                            t,
                            5,
                            {2 * j, 2 * j + 1},
                            {},
                            t < 10 ? "prefill" : "decode"});
        }
    recs.push_back({"q0", 20, 5, {6, 7}, {}, "decode"});
    recs.push_back({"q0", -1, 5, {6, 7}});  // no position, no phase: only in the whole
    for (const Rec& r : recs)
        p.add(r.view());
    CHECK(p.without_position() == 1);
    CHECK(p.without_phase() == 1);
    CHECK(p.num_experts() == 8);
    const auto figs = position_figures(p);

    const GroupFigures& first = find(figs, "position", "0", 5);
    CHECK(first.tokens == 4);
    const std::vector<uint64_t> h0 = {4, 4, 0, 0, 0, 0, 0, 0};
    CHECK(first.fig.gini == Approx(compute_imbalance(h0).gini));
    CHECK(first.fig.entropy_bits == Approx(1.0));
    REQUIRE(first.top_experts.size() == 2);
    CHECK(first.top_experts[0].expert == 0);
    CHECK(first.top_experts[0].share == 0.5);

    // The whole of layer 5: every record.
    std::vector<uint64_t> whole(8, 0);
    for (const Rec& r : recs)
        for (int32_t e : r.experts)
            ++whole[static_cast<size_t>(e)];
    CHECK(first.js_divergence_bits == Approx(js_divergence_bits(h0, whole)));

    // Positions 1-15: t % 4 over 1..15 gives j = 1, 2, 3, 0, 1, ... (j = 0 for 4, 8, 12).
    std::vector<uint64_t> h1(8, 0);
    for (int t = 1; t < 16; ++t) {
        const int j = t % 4;
        h1[static_cast<size_t>(2 * j)] += 4;
        h1[static_cast<size_t>(2 * j + 1)] += 4;
    }
    const GroupFigures& early = find(figs, "position", "1-15", 5);
    CHECK(early.tokens == 60);
    CHECK(early.fig.entropy_bits == Approx(compute_imbalance(h1).entropy_bits));
    CHECK(early.js_divergence_bits == Approx(js_divergence_bits(h1, whole)));
    CHECK(find(figs, "position", "16-127", 5).tokens == 1);
    CHECK(find(figs, "position", "16-127", -1).tokens == 1);

    // Phases, in order of first appearance.
    const GroupFigures& prefill = find(figs, "phase", "prefill", 5);
    CHECK(prefill.tokens == 40);
    CHECK(find(figs, "phase", "decode", 5).tokens == 25);
    // Buckets without records have no rows.
    for (const GroupFigures& f : figs)
        CHECK(f.group != "1024+");
}

TEST_CASE("positions: the all-layers row sums hits over layers, against the summed whole") {
    PositionRouting p;
    p.add(Rec{"r", 0, 0, {0}}.view());
    p.add(Rec{"r", 0, 1, {1}}.view());
    p.add(Rec{"r", 1, 0, {2}}.view());
    p.add(Rec{"r", 1, 1, {3}}.view());
    const auto figs = position_figures(p, 6);
    const GroupFigures& all = find(figs, "position", "0", -1);
    CHECK(all.tokens == 2);
    CHECK(all.fig.num_experts == 6);  // the caller's E when larger than the ids seen
    const std::vector<uint64_t> h = {1, 1, 0, 0, 0, 0}, whole = {1, 1, 1, 1, 0, 0};
    CHECK(all.js_divergence_bits == Approx(js_divergence_bits(h, whole)));
    // Layer 0: position 0 chose {0}, the layer {0} and {2}.
    const std::vector<uint64_t> first = {1, 0, 0, 0, 0, 0}, layer0 = {1, 0, 1, 0, 0, 0};
    CHECK(find(figs, "position", "0", 0).js_divergence_bits ==
          Approx(js_divergence_bits(first, layer0)));
    CHECK(js_divergence_bits(first, layer0) ==
          Approx(0.3112781245));  // by hand: 0.415 / 2 + 0.2075 / 2
}

TEST_CASE("positions: phases past the cap are counted, grouped nowhere, kept in the whole") {
    PositionRouting p;
    const size_t extra = 3;
    for (size_t i = 0; i < PositionRouting::kMaxPhases + extra; ++i)
        for (int t = 0; t < 2; ++t)  // two records of each phase: the second one is counted too
            p.add(Rec{"q" + std::to_string(i), t, 0, {1, 2}, {}, "ph" + std::to_string(i)}.view());
    CHECK(p.phases().size() == PositionRouting::kMaxPhases);
    CHECK(p.phases_over_cap() == 2 * extra);
    CHECK(p.whole().at(0).tokens == 2 * (PositionRouting::kMaxPhases + extra));
    CHECK(p.phases().back().first == "ph" + std::to_string(PositionRouting::kMaxPhases - 1));
}
