#include "analytics/imbalance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace moe {

ImbalanceFigures compute_imbalance(std::span<const uint64_t> hits, size_t num_experts) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    ImbalanceFigures f;
    const size_t E = std::max(hits.size(), num_experts);
    f.num_experts = static_cast<uint32_t>(E);
    if (E == 0) {
        f.mean = f.median = f.std = f.cv = f.gini = f.entropy_bits = f.entropy_norm = nan;
        f.top5_share = f.top10_share = f.max_over_mean = f.mean_over_max = f.max_over_min = nan;
        return f;
    }

    f.min = std::numeric_limits<uint64_t>::max();
    for (size_t e = 0; e < E; ++e) {
        const uint64_t h = e < hits.size() ? hits[e] : 0;
        f.selections += h;
        if (h > 0) ++f.unique_experts;
        if (h > f.max || f.argmax < 0) f.max = h, f.argmax = static_cast<int32_t>(e);
        if (h < f.min) f.min = h, f.argmin = static_cast<int32_t>(e);
    }
    f.dead_experts = static_cast<uint32_t>(E) - f.unique_experts;

    const double S = static_cast<double>(f.selections);
    const double En = static_cast<double>(E);
    f.mean = S / En;

    std::vector<uint64_t> sorted(hits.begin(), hits.end());
    sorted.resize(E, 0);
    std::sort(sorted.begin(), sorted.end());
    f.median =
        (E % 2) ? static_cast<double>(sorted[E / 2])
                : (static_cast<double>(sorted[E / 2 - 1]) + static_cast<double>(sorted[E / 2])) / 2;

    double ss = 0;
    for (uint64_t h : sorted)
        ss += (static_cast<double>(h) - f.mean) * (static_cast<double>(h) - f.mean);
    f.std = E > 1 ? std::sqrt(ss / (En - 1)) : nan;

    if (f.selections == 0) {
        f.cv = f.gini = f.entropy_bits = f.entropy_norm = nan;
        f.top5_share = f.top10_share = f.max_over_mean = f.mean_over_max = f.max_over_min = nan;
        return f;
    }
    f.cv = f.std / f.mean;

    // sum_i sum_j |h_i - h_j| = 2 sum_i h_(i) (2i - E + 1) over the ascending order.
    double weighted = 0;
    for (size_t i = 0; i < E; ++i)
        weighted += static_cast<double>(sorted[i]) * (2.0 * static_cast<double>(i) - En + 1.0);
    f.gini = 2.0 * weighted / (2.0 * En * En * f.mean);

    double H = 0;
    for (uint64_t h : sorted) {
        if (h == 0) continue;
        const double p = static_cast<double>(h) / S;
        H -= p * std::log2(p);
    }
    f.entropy_bits = H;
    f.entropy_norm = E > 1 ? H / std::log2(En) : nan;

    auto top_share = [&](size_t n) {
        uint64_t s = 0;
        for (size_t i = 0; i < std::min(n, E); ++i)
            s += sorted[E - 1 - i];
        return static_cast<double>(s) / S;
    };
    f.top5_share = top_share(5);
    f.top10_share = top_share(10);
    f.max_over_mean = static_cast<double>(f.max) / f.mean;
    f.mean_over_max = f.mean / static_cast<double>(f.max);
    f.max_over_min = f.min ? static_cast<double>(f.max) / static_cast<double>(f.min)
                           : std::numeric_limits<double>::infinity();
    return f;
}

}  // namespace moe
