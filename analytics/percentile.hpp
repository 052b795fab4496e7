// numpy's default percentile (linear interpolation between the two nearest ranks), the
// definition docs/FIGURES.md uses wherever it says p50 or p90.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>

namespace moe {

// `sorted` ascending and not empty; q in [0, 1].
inline double percentile_linear(std::span<const double> sorted, double q) {
    const double pos = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace moe
