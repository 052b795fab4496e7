// Significance figures against values computed with scipy 1.10 (special.gammaincc,
// stats.chi2.sf, stats.chi2_contingency(correction=False)) and textbook Wilson intervals.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "analytics/tag_compare.hpp"
#include "decisions/drift.hpp"
#include "decisions/kde.hpp"
#include "decisions/significance.hpp"

using namespace moe;

TEST_CASE("gamma_q matches scipy.special.gammaincc on both branches") {
    struct Case {
        double a, x, q;
    };
    const Case cases[] = {
        {0.5, 0.1, 0.6547208460185768},  {1, 1, 0.36787944117144245},
        {2.5, 3.7, 0.1925504330793957},  {10, 5, 0.9681719426937951},
        {10, 20, 0.0049954123083075785}, {50, 40, 0.9296649333406051},
        {3, 0.01, 0.9999998345783472},   {100, 150, 5.924540335483916e-06},
    };
    for (const auto& c : cases) {
        INFO("a=" << c.a << " x=" << c.x);
        CHECK(gamma_q(c.a, c.x) == Approx(c.q).epsilon(1e-10));
    }
    CHECK(gamma_q(2, 0) == 1);
    CHECK(std::isnan(gamma_q(0, 1)));
    CHECK(std::isnan(gamma_q(1, -1)));
}

TEST_CASE("chi2_sf matches scipy.stats.chi2.sf") {
    CHECK(chi2_sf(30.5, 7) == Approx(7.685993449410958e-05).epsilon(1e-9));
    CHECK(chi2_sf(250.0, 200) == Approx(0.009379131668826098).epsilon(1e-9));
}

TEST_CASE("chi2_homogeneity drops unused experts and matches chi2_contingency") {
    const std::vector<uint64_t> a = {30, 10, 5, 0, 15}, b = {20, 25, 5, 0, 10};
    const Chi2Test t = chi2_homogeneity(a, b);
    CHECK(t.statistic == Approx(9.428571428571429).epsilon(1e-12));
    CHECK(t.dof == 3);  // expert 3 has no selections on either side
    CHECK(t.p_value == Approx(0.024103508103438406).epsilon(1e-9));

    const std::vector<uint64_t> same = {30, 10, 5, 0, 15};
    CHECK(chi2_homogeneity(a, same).statistic == 0);
    CHECK(chi2_homogeneity(a, same).p_value == Approx(1.0));
    CHECK(std::isnan(chi2_homogeneity(a, std::vector<uint64_t>{0, 0, 0}).p_value));
}

// Issue 28: `compare` on count-only data printed top1_chi2_dof 0 beside a null statistic.
TEST_CASE("chi2_homogeneity with an empty side has neither statistic nor degrees of freedom") {
    const std::vector<uint64_t> a = {30, 10, 5}, none = {0, 0, 0};
    for (const Chi2Test& t : {chi2_homogeneity(a, none), chi2_homogeneity(none, a)}) {
        CHECK(std::isnan(t.statistic));
        CHECK_FALSE(t.dof.has_value());
        CHECK(std::isnan(t.p_value));
    }
    // One expert used on both sides: a statistic of 0 with 0 degrees of freedom, no p-value.
    const Chi2Test one = chi2_homogeneity(std::vector<uint64_t>{4, 0}, std::vector<uint64_t>{6, 0});
    CHECK(one.statistic == 0);
    CHECK(one.dof == 0);
    CHECK(std::isnan(one.p_value));
}

TEST_CASE("wilson_interval: textbook values and edges") {
    const Interval half = wilson_interval(30, 60);
    CHECK(half.low == Approx(0.3773502424155577).epsilon(1e-12));
    CHECK(half.high == Approx(0.6226497575844423).epsilon(1e-12));
    const Interval none = wilson_interval(0, 10);  // the classic "rule of 3"-like upper bound
    CHECK(none.low == 0);
    CHECK(none.high == Approx(0.2775327998628892).epsilon(1e-12));
    CHECK(wilson_interval(10, 10).high == Approx(1.0));
    CHECK(std::isnan(wilson_interval(0, 0).low));
}

TEST_CASE("js_noise_floor: reproducible, shrinks with sample size, near the real JS of noise") {
    const std::vector<uint64_t> small = {60, 30, 20, 10}, large = {6000, 3000, 2000, 1000};
    const double f_small = js_noise_floor(small, small);
    CHECK(f_small == js_noise_floor(small, small));  // seeded
    CHECK(f_small > 0);
    // JS of two samples behaves like chi-square / (8 ln2 * n_eff): 100x the counts, ~1/100.
    const double f_large = js_noise_floor(large, large);
    CHECK(f_large / f_small == Approx(0.01).epsilon(0.3));
    // Expected value: (E - 1) / (8 ln 2) * (1/Sa + 1/Sb) bits to first order.
    const double expected = 3.0 / (8 * std::log(2.0)) * (2.0 / 12000);
    CHECK(f_large == Approx(expected).epsilon(0.25));
    CHECK(std::isnan(js_noise_floor(small, std::vector<uint64_t>{0, 0})));
}

TEST_CASE("compare_counts: top-1 test is undefined when top-1 counts are not kept") {
    const std::vector<uint64_t> a = {30, 10, 5, 15}, b = {20, 25, 5, 10}, none = {0, 0, 0, 0};
    const CountsSignificance s = compare_counts(a, none, b, std::vector<uint64_t>{});
    CHECK(std::isnan(s.top1.p_value));
    CHECK(s.selections.dof == 3);
    REQUIRE(s.ci_a.size() == 4);
    CHECK(s.ci_a[0].low == Approx(wilson_interval(30, 60).low));
    CHECK(s.ci_b[1].high == Approx(wilson_interval(25, 60).high));
}

TEST_CASE("kde: Scott bandwidth, CDF table, KS distance and p-value histogram by hand") {
    const std::vector<double> v = {1, 2, 3, 4, 5};
    // sd (ddof 1) = sqrt(2.5); factor 5^(-1/5).
    CHECK(scott_bandwidth(v) == Approx(std::sqrt(2.5) * std::pow(5.0, -0.2)));
    CHECK(std::isnan(scott_bandwidth(std::vector<double>{3, 3})));
    const KdeCdf k = fit_kde(v);
    REQUIRE(k.n == 5);
    CHECK(k.at(3) == Approx(0.5).margin(1e-4));  // symmetric around 3
    CHECK(k.at(-100) == 0);
    CHECK(k.at(100) == 1);
    CHECK(k.upper_tail(3) == Approx(0.5).margin(1e-4));
    CHECK(kde_cdf_exact(v, 1.0, 3) == Approx(0.5));
    // KS from uniform: sorted {0.1, 0.2, 0.9}: max(1/3-0.1, 0.1, 2/3-0.2, 0.2-1/3, 1-0.9,
    // 0.9-2/3) = 0.4667.
    CHECK(ks_uniform({0.9, 0.1, 0.2}) == Approx(2.0 / 3 - 0.2));
    CHECK(std::isnan(ks_uniform({})));
    const auto h = p_value_histogram(std::vector<double>{0.0, 0.05, 0.15, 0.95, 1.0});
    CHECK(h == std::vector<size_t>{2, 1, 0, 0, 0, 0, 0, 0, 0, 2});
}

TEST_CASE("drift_of: verdicts, movers and the chi-square of the window against the baseline") {
    const std::vector<uint64_t> base = {300, 200, 100, 0}, same = {150, 100, 50, 0},
                                moved = {50, 100, 50, 100};
    const DriftPoint s = drift_of(base, same, 150);
    CHECK(s.js_bits == Approx(0.0).margin(1e-12));
    CHECK(s.verdict == DriftVerdict::stable);
    const DriftPoint m = drift_of(base, moved, 150);
    CHECK(m.verdict == DriftVerdict::drifted);
    CHECK(m.chi2.statistic == Approx(chi2_homogeneity(base, moved).statistic));
    REQUIRE(m.movers.size() == 3);
    CHECK(m.movers[0].expert == 0);  // 50% -> 16.7%
    CHECK(m.movers[0].diff == Approx(50.0 / 300 - 0.5));
    CHECK(m.movers[1].expert == 3);  // 0% -> 33.3%
    CHECK(drift_of(base, moved, 10).verdict == DriftVerdict::too_few_tokens);
    DriftThresholds strict;
    strict.min_js = 0.9;  // a JS floor the shift does not reach
    CHECK(drift_of(base, moved, 150, strict).verdict == DriftVerdict::stable);
}

// One rule and one share table: drift judges a window as compare judges two tags
// (decisions/significance.hpp differs, analytics/tag_compare.hpp share_diffs).
TEST_CASE("drift_of and compare agree on the verdict and the experts that moved") {
    std::mt19937_64 rng(31);
    const std::vector<double> min_js = {0.0, 0.005, 0.05};
    for (int round = 0; round < 60; ++round) {
        const size_t E = 2 + rng() % 7;
        std::vector<uint64_t> base(E), win(E);
        for (size_t e = 0; e < E; ++e) {
            base[e] = 1 + rng() % 400;
            win[e] = rng() % (round % 3 == 0 ? 40 : 400);  // some windows small: noise
        }
        DriftThresholds t;
        t.min_js = min_js[static_cast<size_t>(round) % min_js.size()];
        t.movers = E;
        const DriftPoint d = drift_of(base, win, 1000, t);
        const CountsSignificance sig = compare_counts(base, {}, win, {});
        const double js = js_divergence_bits(base, win);
        const auto same = [](double x, double y) {
            return x == y || (std::isnan(x) && std::isnan(y));
        };
        CHECK(same(d.js_noise_floor, sig.js_noise_floor));
        CHECK(same(d.chi2.p_value, sig.selections.p_value));
        if (d.verdict != DriftVerdict::too_few_tokens)
            CHECK((d.verdict == DriftVerdict::drifted) == differs(js, &sig, t.alpha, t.min_js));
        const auto shares = share_diffs(win, base, E);
        if (std::isnan(js)) {
            CHECK(d.movers.empty());
            continue;
        }
        REQUIRE(d.movers.size() == shares.size());
        for (size_t i = 0; i < shares.size(); ++i) {
            CHECK(d.movers[i].expert == shares[i].expert);
            CHECK(d.movers[i].share_window == shares[i].share_a);
            CHECK(d.movers[i].share_baseline == shares[i].share_b);
        }
    }
}

TEST_CASE("parse_duration") {
    CHECK(parse_duration("90") == 90);
    CHECK(parse_duration("90s") == 90);
    CHECK(parse_duration("10m") == 600);
    CHECK(parse_duration("1h") == 3600);
    CHECK(parse_duration("2d") == 172800);
    CHECK_FALSE(parse_duration("0m"));
    CHECK_FALSE(parse_duration("-5m"));
    CHECK_FALSE(parse_duration("5x"));
    CHECK_FALSE(parse_duration(""));
}

TEST_CASE("kde: the binned KS distance is within one bin width below the exact one") {
    // {0.1, 0.2, 0.9} in 10 bins: the largest edge difference is at x = 0.3, |2/3 - 0.3| =
    // 0.3667; exact 0.4667 (just below 0.2's jump, inside its bin): one bin width apart.
    std::vector<uint32_t> ten(10, 0);
    for (double p : {0.1, 0.2, 0.9})
        ++ten[p_value_bin(p, 10)];
    CHECK(ks_uniform_binned(ten) == Approx(2.0 / 3 - 0.3));
    CHECK(std::isnan(ks_uniform_binned(std::vector<uint32_t>(10, 0))));
    CHECK(p_value_bin(1.0, 1000) == 999);
    CHECK(p_value_bin(-0.5, 1000) == 0);
    // Random samples: exact - 1/B <= binned <= exact, for uniform and for skewed p-values.
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(0, 1);
    for (int round = 0; round < 200; ++round) {
        std::vector<double> p(1 + round * 7);
        for (double& x : p)
            x = round % 2 ? u(rng) : std::pow(u(rng), 3.0);
        std::vector<uint32_t> bins(1000, 0);
        for (double x : p)
            ++bins[p_value_bin(x, bins.size())];
        const double exact = ks_uniform(p), binned = ks_uniform_binned(bins);
        CHECK(binned <= exact + 1e-12);
        CHECK(binned >= exact - 1.0 / 1000 - 1e-12);
    }
}
