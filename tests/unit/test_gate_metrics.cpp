#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <vector>

#include "analytics/gate_metrics.hpp"
#include "analytics/running_stats.hpp"

using namespace moe;

namespace {
double m(const GateDistances& d, GateMetric g) {
    return d[static_cast<size_t>(g)];
}
}  // namespace

TEST_CASE("gate distances on hand-checkable vectors") {
    const std::vector<float> u = {1, 0, 0}, v = {0, 1, 0};
    const auto d = gate_distances(u, v);
    CHECK(m(d, GateMetric::cosine_similarity) == Approx(0.0).margin(1e-15));
    CHECK(m(d, GateMetric::cosine_distance) == Approx(1.0));
    CHECK(m(d, GateMetric::euclidean) == Approx(std::sqrt(2.0)));
    CHECK(m(d, GateMetric::l2_normalized) == Approx(std::sqrt(2.0) / std::sqrt(3.0)));
    CHECK(m(d, GateMetric::l1) == Approx(2.0));
    CHECK(m(d, GateMetric::max_abs_diff) == Approx(1.0));
    CHECK(m(d, GateMetric::mean_abs_diff) == Approx(2.0 / 3.0));
    CHECK(m(d, GateMetric::pearson) == Approx(-0.5));  // centred: (2/3,-1/3,-1/3).(-1/3,2/3,-1/3)
}

TEST_CASE("gate distances equal a naive evaluation of each definition") {
    // (numpy itself checks them end to end in tests/integration/check_reference.py.)
    std::vector<float> u(16), v(16);
    for (int i = 0; i < 16; ++i) {
        u[i] = static_cast<float>(0.1 * i - 0.7 + 0.05 * std::sin(i));
        v[i] = static_cast<float>(0.9 * u[i] + 0.03 * std::cos(3 * i));
    }
    // One plain loop per formula, in double from the same float inputs.
    double dot = 0, nu = 0, nv = 0, sq = 0, l1 = 0, mx = 0, su = 0, sv = 0;
    for (int i = 0; i < 16; ++i) {
        dot += double(u[i]) * v[i];
        nu += double(u[i]) * u[i];
        nv += double(v[i]) * v[i];
        const double diff = double(u[i]) - double(v[i]);
        sq += diff * diff;
        l1 += std::fabs(diff);
        mx = std::max(mx, std::fabs(diff));
        su += u[i];
        sv += v[i];
    }
    double cov = 0, vu = 0, vv = 0;
    for (int i = 0; i < 16; ++i) {
        cov += (u[i] - su / 16) * (v[i] - sv / 16);
        vu += (u[i] - su / 16) * (u[i] - su / 16);
        vv += (v[i] - sv / 16) * (v[i] - sv / 16);
    }
    const auto d = gate_distances(u, v);
    CHECK(m(d, GateMetric::cosine_similarity) == Approx(dot / std::sqrt(nu * nv)).epsilon(1e-12));
    CHECK(m(d, GateMetric::euclidean) == Approx(std::sqrt(sq)).epsilon(1e-12));
    CHECK(m(d, GateMetric::l1) == Approx(l1).epsilon(1e-12));
    CHECK(m(d, GateMetric::max_abs_diff) == Approx(mx).epsilon(1e-12));
    CHECK(m(d, GateMetric::pearson) == Approx(cov / std::sqrt(vu * vv)).epsilon(1e-9));
}

TEST_CASE("gate distances match a long double reference at every length and offset") {
    // The vector loop takes four components at a time and leaves the rest to a scalar tail;
    // lengths 1-41 and the real widths (Qwen3 2,048, DeepSeek-V3 7,168), from unaligned
    // starts, check the body, the tail and the lane sums together.
    std::mt19937 rng(18);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<size_t> lengths;
    for (size_t n = 1; n <= 41; ++n)
        lengths.push_back(n);
    lengths.insert(lengths.end(), {2048, 2049, 7168});
    for (const size_t n : lengths)
        for (size_t offset = 0; offset < 4; ++offset) {
            std::vector<float> ub(n + offset), vb(n + offset);
            for (size_t i = 0; i < n + offset; ++i) {
                ub[i] = g(rng) + 0.3f;  // a non-zero mean, so centring matters
                vb[i] = 0.6f * ub[i] + 0.8f * g(rng) - 0.1f;
            }
            const std::span<const float> u(ub.data() + offset, n), v(vb.data() + offset, n);
            long double su = 0, sv = 0, dot = 0, uu = 0, vv = 0, sq = 0, l1 = 0, mx = 0;
            for (size_t i = 0; i < n; ++i) {
                const long double a = u[i], b = v[i];
                su += a, sv += b, dot += a * b, uu += a * a, vv += b * b;
                sq += (a - b) * (a - b), l1 += std::fabs(a - b);
                mx = std::max(mx, std::fabs(a - b));
            }
            long double cov = 0, cu = 0, cv = 0;
            for (size_t i = 0; i < n; ++i) {
                const long double a = u[i] - su / n, b = v[i] - sv / n;
                cov += a * b, cu += a * a, cv += b * b;
            }
            const auto d = gate_distances(u, v);
            INFO("n = " << n << ", offset = " << offset);
            const double cos = static_cast<double>(dot / std::sqrt(uu * vv));
            CHECK(m(d, GateMetric::cosine_similarity) == Approx(cos).epsilon(1e-12));
            CHECK(m(d, GateMetric::cosine_distance) == Approx(1 - cos).epsilon(1e-12));
            CHECK(m(d, GateMetric::euclidean) == Approx(double(std::sqrt(sq))).epsilon(1e-12));
            CHECK(m(d, GateMetric::l2_normalized) ==
                  Approx(double(std::sqrt(sq / n))).epsilon(1e-12));
            CHECK(m(d, GateMetric::l1) == Approx(double(l1)).epsilon(1e-12));
            CHECK(m(d, GateMetric::mean_abs_diff) == Approx(double(l1 / n)).epsilon(1e-12));
            CHECK(m(d, GateMetric::max_abs_diff) == double(mx));  // a max rounds nothing
            if (n > 1)
                CHECK(m(d, GateMetric::pearson) ==
                      Approx(double(cov / std::sqrt(cu * cv))).epsilon(1e-10));
            else
                CHECK(std::isnan(m(d, GateMetric::pearson)));
        }
}

TEST_CASE("undefined gate metrics are NaN and left out of aggregates") {
    const std::vector<float> zero = {0, 0, 0}, v = {1, 2, 3}, flat = {2, 2, 2};
    auto d = gate_distances(zero, v);
    CHECK(std::isnan(m(d, GateMetric::cosine_similarity)));
    CHECK(std::isnan(m(d, GateMetric::pearson)));
    CHECK(m(d, GateMetric::euclidean) == Approx(std::sqrt(14.0)));
    d = gate_distances(flat, v);
    CHECK(std::isnan(m(d, GateMetric::pearson)));
    CHECK_FALSE(std::isnan(m(d, GateMetric::cosine_similarity)));
}

TEST_CASE("running stats: population std, min, max and exact merge") {
    const std::vector<double> xs = {2, 4, 4, 4, 5, 5, 7, 9};
    RunningStats all, a, b;
    for (size_t i = 0; i < xs.size(); ++i) {
        all.add(xs[i]);
        (i < 3 ? a : b).add(xs[i]);
    }
    CHECK(all.n == 8);
    CHECK(all.mean == Approx(5.0));
    CHECK(all.std_pop() == Approx(2.0));  // the textbook example
    CHECK(all.std_sample() == Approx(std::sqrt(32.0 / 7)));
    CHECK(all.min == 2);
    CHECK(all.max == 9);
    a.merge(b);
    CHECK(a.n == 8);
    CHECK(a.mean == Approx(all.mean));
    CHECK(a.m2 == Approx(all.m2));
    CHECK(a.min == 2);
    CHECK(a.max == 9);
    RunningStats empty;
    empty.merge(all);
    CHECK(empty.std_pop() == Approx(2.0));
}
