#include "analytics/layer_correlation.hpp"

#include <cmath>

namespace moe {

double pearson(std::span<const double> x, std::span<const double> y) {
    const size_t n = x.size();
    if (n < 2 || y.size() != n) return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i)
        mx += x[i], my += y[i];
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    return (sxx > 0 && syy > 0) ? sxy / std::sqrt(sxx * syy) : NAN;
}

std::vector<LayerCorrelation> layer_correlations(const TagStats& tag, size_t E, int32_t delta_max) {
    const std::vector<int32_t> ids = tag.layer_ids();
    std::vector<std::vector<double>> a(tag.layers.size());
    for (int32_t l : ids) {
        const LayerStats& s = *tag.layer(l);
        auto& v = a[static_cast<size_t>(l)];
        v.assign(E, 0.0);
        for (size_t e = 0; e < s.hits.size() && e < E; ++e)
            v[e] = static_cast<double>(s.hits[e]) / static_cast<double>(s.tokens);
    }
    std::vector<LayerCorrelation> out;
    for (int32_t l : ids)
        for (int32_t d = 1; d <= delta_max; ++d) {
            const auto m = static_cast<size_t>(l + d);
            if (m >= a.size() || a[m].empty()) continue;
            out.push_back({l, d, pearson(a[static_cast<size_t>(l)], a[m])});
        }
    return out;
}

PeriodicSummary periodic_summary(const std::vector<LayerCorrelation>& rs, int32_t delta) {
    PeriodicSummary s{delta, NAN, NAN, 0};
    double sum = 0, sq = 0;
    for (const auto& c : rs)
        if (c.delta == delta && !std::isnan(c.r)) ++s.n, sum += c.r, sq += c.r * c.r;
    if (s.n == 0) return s;
    s.mean = sum / static_cast<double>(s.n);
    double m2 = 0;
    for (const auto& c : rs)
        if (c.delta == delta && !std::isnan(c.r)) m2 += (c.r - s.mean) * (c.r - s.mean);
    s.std = std::sqrt(m2 / static_cast<double>(s.n));
    return s;
}

}  // namespace moe
