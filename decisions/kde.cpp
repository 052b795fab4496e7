#include "decisions/kde.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moe {

namespace {
double phi(double z) {
    return 0.5 * std::erfc(-z / std::sqrt(2.0));
}
}  // namespace

double scott_bandwidth(std::span<const double> values) {
    const size_t n = values.size();
    if (n < 2) return std::numeric_limits<double>::quiet_NaN();
    double mean = 0;
    for (double v : values)
        mean += v;
    mean /= static_cast<double>(n);
    double ss = 0;
    for (double v : values)
        ss += (v - mean) * (v - mean);
    const double sd = std::sqrt(ss / static_cast<double>(n - 1));
    if (!(sd > 0)) return std::numeric_limits<double>::quiet_NaN();
    return std::pow(static_cast<double>(n), -0.2) * sd;
}

double kde_cdf_exact(std::span<const double> values, double h, double x) {
    double s = 0;
    for (double v : values)
        s += phi((x - v) / h);
    return s / static_cast<double>(values.size());
}

KdeCdf fit_kde(std::span<const double> values) {
    KdeCdf k;
    const double h = scott_bandwidth(values);
    if (std::isnan(h)) return k;
    k.n = values.size();
    k.bandwidth = h;
    const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
    k.lo = *mn - 5 * h;
    k.hi = *mx + 5 * h;
    k.cdf.resize(kKdeGridPoints);
    for (size_t i = 0; i < kKdeGridPoints; ++i)
        k.cdf[i] = kde_cdf_exact(values, h,
                                 k.lo + (k.hi - k.lo) * static_cast<double>(i) /
                                            static_cast<double>(kKdeGridPoints - 1));
    return k;
}

double KdeCdf::at(double x) const {
    if (cdf.empty()) return std::numeric_limits<double>::quiet_NaN();
    if (x <= lo) return 0;
    if (x >= hi) return 1;
    const double pos = (x - lo) / (hi - lo) * static_cast<double>(cdf.size() - 1);
    const auto i = std::min(static_cast<size_t>(pos), cdf.size() - 2);
    const double f = pos - static_cast<double>(i);
    return cdf[i] * (1 - f) + cdf[i + 1] * f;
}

double ks_uniform(std::vector<double> p) {
    if (p.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(p.begin(), p.end());
    const double n = static_cast<double>(p.size());
    double d = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        const double u = std::clamp(p[i], 0.0, 1.0);
        d = std::max({d, static_cast<double>(i + 1) / n - u, u - static_cast<double>(i) / n});
    }
    return d;
}

size_t p_value_bin(double p, size_t bins) {
    const auto b = static_cast<size_t>(std::clamp(p, 0.0, 1.0) * static_cast<double>(bins));
    return std::min(b, bins - 1);
}

std::vector<size_t> p_value_histogram(std::span<const double> p, size_t bins) {
    std::vector<size_t> h(bins, 0);
    for (double v : p)
        if (!std::isnan(v)) ++h[p_value_bin(v, bins)];
    return h;
}

double ks_uniform_binned(std::span<const uint32_t> counts) {
    uint64_t n = 0;
    for (uint32_t c : counts)
        n += c;
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();
    double d = 0;
    uint64_t below = 0;  // values in the bins before edge j
    for (size_t j = 0; j <= counts.size(); ++j) {
        const double edge = static_cast<double>(j) / static_cast<double>(counts.size());
        d = std::max(d, std::abs(static_cast<double>(below) / static_cast<double>(n) - edge));
        if (j < counts.size()) below += counts[j];
    }
    return d;
}

}  // namespace moe
