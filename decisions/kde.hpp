// Reference distributions of router outputs (docs/FIGURES.md "Reference distributions"): a
// one-dimensional Gaussian kernel density estimate with Scott's bandwidth, as
// scipy.stats.gaussian_kde, kept as a CDF lookup table; p-values of new values are the
// reference's upper tail; their histogram and Kolmogorov-Smirnov distance from uniform say
// whether new traffic looks like the reference. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace moe {

struct KdeCdf {
    size_t n = 0;               // reference values
    double bandwidth = 0;       // Scott: n^(-1/5) x sample standard deviation (ddof 1)
    double lo = 0, hi = 0;      // the table's range: min - 5h .. max + 5h
    std::vector<double> cdf;    // kKdeGridPoints values of the CDF, evenly spaced
    double at(double x) const;  // the CDF at x, linear between grid points
    double upper_tail(double x) const { return 1 - at(x); }
};

inline constexpr size_t kKdeGridPoints = 1024;

// The exact KDE CDF at x: mean of Phi((x - v_i) / h) (scipy's integrate_box_1d(-inf, x)).
double kde_cdf_exact(std::span<const double> values, double bandwidth, double x);
// Scott's bandwidth; NaN for fewer than 2 values or zero spread.
double scott_bandwidth(std::span<const double> values);
// The fit; n = 0 when the bandwidth is undefined.
KdeCdf fit_kde(std::span<const double> values);

// The Kolmogorov-Smirnov distance of a sample from the uniform distribution on [0, 1]:
// max over the sorted sample of max(i/n - u_i, u_i - (i-1)/n). NaN for an empty sample.
double ks_uniform(std::vector<double> p_values);
// Counts of p-values in 10 bins of 0.1 (1.0 in the last).
std::vector<size_t> p_value_histogram(std::span<const double> p_values, size_t bins = 10);
// The bin of p among `bins` equal bins of [0, 1] (1.0 in the last).
size_t p_value_bin(double p, size_t bins);
// The KS distance from uniform of p-values counted in equal bins of [0, 1] (the daemon's
// live test keeps counts, not values): max over the bin edges x of |F_n(x-) - x|, which is
// at most 1/bins below ks_uniform of the values themselves, never above. NaN when empty.
double ks_uniform_binned(std::span<const uint32_t> counts);

}  // namespace moe
