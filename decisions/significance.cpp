#include "decisions/significance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "analytics/tag_compare.hpp"

namespace moe {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEps = 1e-15;
constexpr int kMaxIterations = 10000;

// P(a, x) by its power series; converges fast for x < a + 1.
double gamma_p_series(double a, double x) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < kMaxIterations; ++n) {
        term *= x / (a + n);
        sum += term;
        if (std::fabs(term) < std::fabs(sum) * kEps) break;
    }
    return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Q(a, x) by its continued fraction (modified Lentz); converges fast for x >= a + 1.
double gamma_q_fraction(double a, double x) {
    constexpr double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < kMaxIterations; ++i) {
        const double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (std::fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (std::fabs(delta - 1) < kEps) break;
    }
    return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

double sum_of(std::span<const uint64_t> v) {
    double s = 0;
    for (uint64_t x : v)
        s += static_cast<double>(x);
    return s;
}

uint64_t at(std::span<const uint64_t> v, size_t i) {
    return i < v.size() ? v[i] : 0;
}

// One multinomial sample of n draws over `p` (sequential binomials).
void multinomial(std::mt19937_64& rng, uint64_t n, const std::vector<double>& p,
                 std::vector<uint64_t>& out) {
    double rest = 1;
    for (size_t i = 0; i < p.size(); ++i) {
        if (n == 0 || rest <= 0) {
            out[i] = 0;
            continue;
        }
        const double q = std::clamp(p[i] / rest, 0.0, 1.0);
        out[i] = i + 1 == p.size() ? n : std::binomial_distribution<uint64_t>(n, q)(rng);
        n -= out[i];
        rest -= p[i];
    }
}
}  // namespace

double gamma_q(double a, double x) {
    if (!(a > 0) || !(x >= 0) || std::isinf(a)) return kNaN;
    if (x == 0) return 1;
    if (std::isinf(x)) return 0;
    if (x < a + 1) return std::max(0.0, 1 - gamma_p_series(a, x));
    return gamma_q_fraction(a, x);
}

double chi2_sf(double x, double dof) {
    if (!(dof > 0)) return kNaN;
    return gamma_q(dof / 2, std::max(0.0, x) / 2);
}

Interval wilson_interval(uint64_t k, uint64_t n, double z) {
    if (n == 0) return {kNaN, kNaN};
    const double N = static_cast<double>(n), p = static_cast<double>(k) / N, z2 = z * z;
    const double centre = (p + z2 / (2 * N)) / (1 + z2 / N);
    const double half = z / (1 + z2 / N) * std::sqrt(p * (1 - p) / N + z2 / (4 * N * N));
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Chi2Test chi2_homogeneity(std::span<const uint64_t> a, std::span<const uint64_t> b) {
    const double Sa = sum_of(a), Sb = sum_of(b), S = Sa + Sb;
    Chi2Test t;
    if (Sa == 0 || Sb == 0) return {kNaN, std::nullopt, kNaN};
    int columns = 0;
    for (size_t e = 0; e < std::max(a.size(), b.size()); ++e) {
        const double oa = static_cast<double>(at(a, e)), ob = static_cast<double>(at(b, e));
        const double col = oa + ob;
        if (col == 0) continue;  // an expert neither side used: no information
        ++columns;
        const double ea = col * Sa / S, eb = col * Sb / S;
        t.statistic += (oa - ea) * (oa - ea) / ea + (ob - eb) * (ob - eb) / eb;
    }
    t.dof = columns - 1;
    t.p_value = columns > 1 ? chi2_sf(t.statistic, columns - 1) : kNaN;
    return t;
}

double js_noise_floor(std::span<const uint64_t> a, std::span<const uint64_t> b, size_t draws,
                      uint64_t seed) {
    const double Sa = sum_of(a), Sb = sum_of(b);
    if (Sa == 0 || Sb == 0 || draws == 0) return kNaN;
    const size_t E = std::max(a.size(), b.size());
    std::vector<double> pooled(E);
    for (size_t e = 0; e < E; ++e)
        pooled[e] = static_cast<double>(at(a, e) + at(b, e)) / (Sa + Sb);
    std::mt19937_64 rng(seed);
    std::vector<uint64_t> x(E), y(E);
    double total = 0;
    for (size_t i = 0; i < draws; ++i) {
        multinomial(rng, static_cast<uint64_t>(Sa), pooled, x);
        multinomial(rng, static_cast<uint64_t>(Sb), pooled, y);
        total += js_divergence_bits(x, y);
    }
    return total / static_cast<double>(draws);
}

}  // namespace moe

namespace moe {

CountsSignificance compare_counts(std::span<const uint64_t> hits_a,
                                  std::span<const uint64_t> top1_a,
                                  std::span<const uint64_t> hits_b,
                                  std::span<const uint64_t> top1_b) {
    CountsSignificance s;
    s.selections = chi2_homogeneity(hits_a, hits_b);
    s.top1 = chi2_homogeneity(top1_a, top1_b);
    s.js_noise_floor = js_noise_floor(hits_a, hits_b);
    const auto intervals = [](std::span<const uint64_t> h) {
        const auto n = static_cast<uint64_t>(sum_of(h));
        std::vector<Interval> out;
        for (uint64_t k : h)
            out.push_back(wilson_interval(k, n));
        return out;
    };
    s.ci_a = intervals(hits_a);
    s.ci_b = intervals(hits_b);
    return s;
}

bool differs(double js_bits, const CountsSignificance* sig, double alpha, double min_js) {
    if (!sig) return js_bits >= min_js;
    return differs(js_bits, sig->selections.p_value, sig->js_noise_floor, alpha, min_js);
}

bool differs(double js_bits, double p_value, double js_noise_floor, double alpha, double min_js) {
    return js_bits >= min_js && p_value < alpha && js_bits > js_noise_floor;
}

}  // namespace moe
