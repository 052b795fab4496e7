// Is a difference in routing real? Confidence intervals for shares, Pearson's chi-square
// test of homogeneity between two count vectors, and the JS divergence expected from
// sampling noise alone. Pure functions, no I/O (docs/FIGURES.md "Tag comparison").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace moe {

// The regularized upper incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a), for
// a > 0, x >= 0 (series below a + 1, Lentz continued fraction above). NaN outside.
double gamma_q(double a, double x);

// P(X >= x) for X chi-square distributed with `dof` degrees of freedom.
double chi2_sf(double x, double dof);

// The two-sided 95 % quantile of the standard normal distribution.
inline constexpr double kZ95 = 1.959963984540054;

struct Interval {
    double low = 0, high = 0;
};

// Wilson score interval for k successes in n trials; {NaN, NaN} when n = 0.
Interval wilson_interval(uint64_t k, uint64_t n, double z = kZ95);

struct Chi2Test {
    double statistic = 0;    // sum (O - E)^2 / E over the 2 x E' table; NaN when a row is empty
    std::optional<int> dof;  // E' - 1, E' = experts with a non-zero total; none when a row is empty
    double p_value = 1;      // NaN when a row is empty or dof = 0
};

// Pearson's chi-square test of homogeneity on the 2 x E table (a; b), columns with a zero
// total dropped, no continuity correction (scipy.stats.chi2_contingency(correction=False)).
Chi2Test chi2_homogeneity(std::span<const uint64_t> a, std::span<const uint64_t> b);

// The JS divergence (bits) expected between two samples of sum(a) and sum(b) draws from one
// distribution, the pooled shares (a + b) / (sum a + sum b): the mean over `draws`
// multinomial resamples, seeded so a report is reproducible. NaN when a side is empty.
inline constexpr uint64_t kNoiseFloorSeed = 20261125;
inline constexpr size_t kNoiseFloorDraws = 100;
double js_noise_floor(std::span<const uint64_t> a, std::span<const uint64_t> b,
                      size_t draws = kNoiseFloorDraws, uint64_t seed = kNoiseFloorSeed);

}  // namespace moe

namespace moe {

// Everything `compare` and `drift` say about whether two count vectors differ.
struct CountsSignificance {
    Chi2Test selections;               // on hits (selections of one token are not independent)
    Chi2Test top1;                     // on per-token first-ranked experts; NaN when not counted
    double js_noise_floor = 0;         // of the hits, see js_noise_floor()
    std::vector<Interval> ci_a, ci_b;  // Wilson 95 % of each expert's share of selections
};

// Whether two share vectors differ in a way that matters (docs/FIGURES.md "Tag comparison"):
// for sampled records, the test says it is not noise (p < alpha and JS above its noise
// floor) and the effect is at least `min_js` bits; for engine totals (`sig` null), whose
// selections are not independent draws, the effect size alone decides.
// About a root-mean-square change of 17 % in the experts' shares (JS ~ sum p d^2 / 8 ln 2).
inline constexpr double kDefaultMinJs = 0.005;  // bits: --min-js
inline constexpr double kDefaultAlpha = 0.01;   // p-value: compare; drift --alpha
// Fewer sampled tokens on a side (a drift window, a compared tag's layer): no verdict. The
// chi-square test's approximation and the noise floor need a few tokens per expert row.
inline constexpr uint64_t kMinTokensToJudge = 30;
bool differs(double js_bits, const CountsSignificance* sig, double alpha, double min_js);
// The same rule on sampled records' two numbers: `drift` judges a window with it.
bool differs(double js_bits, double p_value, double js_noise_floor, double alpha, double min_js);

// `top1_a`/`top1_b` may be empty or all zero (counts not kept: a --since window, an old
// database); then `top1` is {NaN, no dof, NaN}.
CountsSignificance compare_counts(std::span<const uint64_t> hits_a,
                                  std::span<const uint64_t> top1_a,
                                  std::span<const uint64_t> hits_b,
                                  std::span<const uint64_t> top1_b);

}  // namespace moe
