#include <catch2/catch.hpp>

#include <cmath>

#include "analytics/aggregates.hpp"
#include "analytics/imbalance.hpp"
#include "fixtures.hpp"

using namespace moe;

TEST_CASE("docs/FIGURES.md worked example (seed 000 layer): every imbalance figure") {
    const auto h = test::seed000_hits();
    REQUIRE(h.size() == 128);
    const ImbalanceFigures f = compute_imbalance(h);
    CHECK(f.num_experts == 128);
    CHECK(f.selections == 49920);
    CHECK(f.unique_experts == 128);
    CHECK(f.dead_experts == 0);
    CHECK(f.mean == 390.0);
    CHECK(f.median == 348.5);
    CHECK(f.max == 1140);
    CHECK(f.argmax == 22);
    CHECK(f.min == 80);
    CHECK(f.argmin == 47);
    CHECK(f.std == Approx(214.6).margin(0.05));
    CHECK(f.cv == Approx(0.55).margin(0.005));
    CHECK(f.gini == Approx(0.298).margin(0.0005));
    CHECK(f.top5_share == Approx(0.099).margin(0.0005));
    CHECK(f.top10_share == Approx(0.177).margin(0.0005));
    CHECK(f.max_over_min == 14.25);
    CHECK(f.entropy_bits == Approx(6.797).margin(0.0005));
    CHECK(f.entropy_norm == Approx(6.797 / 7.0).margin(0.0001));
    CHECK(f.max_over_mean == Approx(1140.0 / 390.0));
    CHECK(f.mean_over_max == Approx(390.0 / 1140.0));
}

TEST_CASE("figures against direct evaluation of the docs/FIGURES.md formulas") {
    // Small vector with a dead expert and ties; formulas evaluated naively here.
    const std::vector<uint64_t> h = {5, 0, 3, 3, 9, 1, 0, 7};
    const ImbalanceFigures f = compute_imbalance(h);
    const double E = 8, S = 28, mean = S / E;
    double ss = 0, gsum = 0, H = 0;
    for (auto a : h) {
        ss += (double(a) - mean) * (double(a) - mean);
        for (auto b : h)
            gsum += std::fabs(double(a) - double(b));
        if (a) H -= (a / S) * std::log2(a / S);
    }
    CHECK(f.selections == 28);
    CHECK(f.unique_experts == 6);
    CHECK(f.dead_experts == 2);
    CHECK(f.median == 3.0);  // sorted 0 0 1 3 3 5 7 9
    CHECK(f.std == Approx(std::sqrt(ss / (E - 1))));
    CHECK(f.gini == Approx(gsum / (2 * E * E * mean)));
    CHECK(f.entropy_bits == Approx(H));
    CHECK(f.entropy_norm == Approx(H / 3.0));
    CHECK(f.top5_share == Approx((9 + 7 + 5 + 3 + 3) / S));
    CHECK(f.top10_share == Approx(1.0));
    CHECK(f.argmin == 1);  // lowest id among the zeros
    CHECK(f.argmax == 4);
    CHECK(std::isinf(f.max_over_min));
}

TEST_CASE("an empty layer has undefined figures, not a crash") {
    const std::vector<uint64_t> h(16, 0);
    const ImbalanceFigures f = compute_imbalance(h);
    CHECK(f.selections == 0);
    CHECK(f.dead_experts == 16);
    CHECK(std::isnan(f.gini));
    CHECK(std::isnan(f.entropy_bits));
    CHECK(std::isnan(compute_imbalance(std::vector<uint64_t>{}).mean));
    const ImbalanceFigures one = compute_imbalance(std::vector<uint64_t>{4});
    CHECK(std::isnan(one.std));  // ddof = 1 needs two experts
    CHECK(one.gini == 0.0);
}

TEST_CASE("worked example through the aggregates: hits, shares and the EMA of expert 22") {
    const auto h = test::seed000_hits();
    const auto recs = test::records_for(h, 8);
    REQUIRE(recs.size() == 6240);
    Aggregates agg;
    for (const auto& r : recs) {
        RoutingRecord rec;
        rec.layer = 3;
        rec.experts = r;
        REQUIRE_FALSE(agg.add_routing(kAllTag, rec).has_value());
    }
    const LayerStats& l = *agg.tag(kAllTag).layer(3);
    CHECK(l.tokens == 6240);
    CHECK(l.top_k == 8);
    CHECK(l.hits == h);
    CHECK(agg.num_experts() == 128);

    // "the top EMA (expert 22) is 0.14 % after 6,240 records with d = 0.99999"
    size_t top = 0;
    for (size_t e = 0; e < 128; ++e)
        if (l.ema.value(e) > l.ema.value(top)) top = e;
    CHECK(top == 22);
    CHECK(std::round(l.ema.value(22) * 10000) / 100 == Approx(0.14));
    // Bias-corrected EMA estimates the share (1140 / 49920 = 2.28 %).
    CHECK(l.ema.corrected(22) == Approx(1140.0 / 49920).epsilon(0.05));
    CHECK(l.ema.norm() == Approx(1 - std::pow(0.99999, 6240)));
}
