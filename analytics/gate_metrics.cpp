#include "analytics/gate_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace moe {

namespace {

// Sums over the components, in double: n_embd reaches 7,168 and the reference works in
// float64. Two passes over the vectors (the second needs the means, for a Pearson that
// does not cancel), instead of one per figure: this runs for every gate pair, and ten
// passes made it a third of `--analytics full` on gate logs (BENCHMARKS.md).
struct Sums {
    double u = 0, v = 0, dot = 0, uu = 0, vv = 0, sq = 0, l1 = 0, max_abs = 0;
};
struct Centred {
    double cov = 0, uu = 0, vv = 0;
};

#if defined(__SSE2__)

double total(__m128d a) {
    return _mm_cvtsd_f64(_mm_add_sd(a, _mm_unpackhi_pd(a, a)));
}

// step(u, v) on components [0, n - n % 4) as double pairs; the caller does the rest.
template <class Step>
void each_pair4(const float* u, const float* v, size_t n, Step&& step) {
    for (size_t i = 0; i + 4 <= n; i += 4) {
        const __m128 a = _mm_loadu_ps(u + i), b = _mm_loadu_ps(v + i);
        step(_mm_cvtps_pd(a), _mm_cvtps_pd(b));
        step(_mm_cvtps_pd(_mm_movehl_ps(a, a)), _mm_cvtps_pd(_mm_movehl_ps(b, b)));
    }
}

// Components [0, n - n % 4), two doubles a register; the caller adds the rest.
Sums sums4(const float* u, const float* v, size_t n) {
    const __m128d sign = _mm_set1_pd(-0.0);
    __m128d su = _mm_setzero_pd(), sv = su, dot = su, uu = su, vv = su, sq = su, l1 = su, mx = su;
    const auto step = [&](__m128d a, __m128d b) {
        su = _mm_add_pd(su, a);
        sv = _mm_add_pd(sv, b);
        dot = _mm_add_pd(dot, _mm_mul_pd(a, b));
        uu = _mm_add_pd(uu, _mm_mul_pd(a, a));
        vv = _mm_add_pd(vv, _mm_mul_pd(b, b));
        const __m128d d = _mm_sub_pd(a, b);
        sq = _mm_add_pd(sq, _mm_mul_pd(d, d));
        const __m128d ad = _mm_andnot_pd(sign, d);
        l1 = _mm_add_pd(l1, ad);
        mx = _mm_max_pd(mx, ad);
    };
    each_pair4(u, v, n, step);
    const __m128d m2 = _mm_max_sd(mx, _mm_unpackhi_pd(mx, mx));
    return {total(su), total(sv), total(dot), total(uu),
            total(vv), total(sq), total(l1),  _mm_cvtsd_f64(m2)};
}

Centred centred4(const float* u, const float* v, size_t n, double mu, double mv) {
    const __m128d mu2 = _mm_set1_pd(mu), mv2 = _mm_set1_pd(mv);
    __m128d cov = _mm_setzero_pd(), uu = cov, vv = cov;
    const auto step = [&](__m128d a, __m128d b) {
        const __m128d cu = _mm_sub_pd(a, mu2), cv = _mm_sub_pd(b, mv2);
        cov = _mm_add_pd(cov, _mm_mul_pd(cu, cv));
        uu = _mm_add_pd(uu, _mm_mul_pd(cu, cu));
        vv = _mm_add_pd(vv, _mm_mul_pd(cv, cv));
    };
    each_pair4(u, v, n, step);
    return {total(cov), total(uu), total(vv)};
}

constexpr size_t kBlock = 4;

#else

Sums sums4(const float*, const float*, size_t) {
    return {};
}
Centred centred4(const float*, const float*, size_t, double, double) {
    return {};
}
constexpr size_t kBlock = 1 << 30;  // everything goes through the scalar tail

#endif

}  // namespace

GateDistances gate_distances(std::span<const float> u_in, std::span<const float> v_in) {
    const size_t n = u_in.size();
    const float* u = u_in.data();
    const float* v = v_in.data();
    const size_t body = n - n % kBlock;
    const double nd = static_cast<double>(n);

    Sums s = sums4(u, v, body);
    for (size_t i = body; i < n; ++i) {
        const double a = u[i], b = v[i], d = a - b;
        s.u += a, s.v += b, s.dot += a * b, s.uu += a * a, s.vv += b * b, s.sq += d * d;
        s.l1 += std::fabs(d);
        s.max_abs = std::max(s.max_abs, std::fabs(d));
    }
    const double mu = s.u / nd, mv = s.v / nd;
    Centred c = centred4(u, v, body, mu, mv);
    for (size_t i = body; i < n; ++i) {
        const double cu = u[i] - mu, cv = v[i] - mv;
        c.cov += cu * cv, c.uu += cu * cu, c.vv += cv * cv;
    }

    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    GateDistances d;
    const double denom = std::sqrt(s.uu) * std::sqrt(s.vv);
    const double cos = denom > 0 ? s.dot / denom : nan;
    d[size_t(GateMetric::cosine_similarity)] = cos;
    d[size_t(GateMetric::cosine_distance)] = 1.0 - cos;
    d[size_t(GateMetric::euclidean)] = std::sqrt(s.sq);
    d[size_t(GateMetric::l2_normalized)] = std::sqrt(s.sq) / std::sqrt(nd);
    d[size_t(GateMetric::l1)] = s.l1;
    d[size_t(GateMetric::pearson)] =
        (n > 1 && c.uu > 0 && c.vv > 0) ? c.cov / std::sqrt(c.uu * c.vv) : nan;
    d[size_t(GateMetric::max_abs_diff)] = s.max_abs;
    d[size_t(GateMetric::mean_abs_diff)] = s.l1 / nd;
    return d;
}

}  // namespace moe
