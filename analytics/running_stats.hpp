// Count, mean, population variance, min and max of a stream of values (Welford), mergeable
// across streams (Chan et al.), so stored aggregates from many nodes can be combined.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace moe {

struct RunningStats {
    uint64_t n = 0;
    double mean = 0;
    double m2 = 0;  // sum of squared deviations from the mean
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();

    void add(double x) {
        ++n;
        const double delta = x - mean;
        mean += delta / static_cast<double>(n);
        m2 += delta * (x - mean);
        min = std::min(min, x);
        max = std::max(max, x);
    }

    void merge(const RunningStats& o) {
        if (o.n == 0) return;
        if (n == 0) {
            *this = o;
            return;
        }
        const double na = static_cast<double>(n), nb = static_cast<double>(o.n);
        const double delta = o.mean - mean;
        const double total = na + nb;
        mean += delta * nb / total;
        m2 += o.m2 + delta * delta * na * nb / total;
        n += o.n;
        min = std::min(min, o.min);
        max = std::max(max, o.max);
    }

    // Population standard deviation (ddof = 0, as numpy's default).
    double std_pop() const {
        return n ? std::sqrt(std::max(0.0, m2 / static_cast<double>(n))) : NAN;
    }
    // Sample standard deviation (ddof = 1, as pandas' default).
    double std_sample() const {
        return n > 1 ? std::sqrt(std::max(0.0, m2 / static_cast<double>(n - 1))) : NAN;
    }
};

}  // namespace moe
