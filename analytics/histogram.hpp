// A fixed-edge histogram: `bins` equal bins over [lo, hi) plus an underflow and an overflow
// bin. Fixed edges keep histograms from different nodes and time windows additive.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace moe {

struct Histogram {
    double lo = 0, hi = 1;
    std::vector<uint64_t> counts;  // [underflow, bin 0 .. bin n-1, overflow]

    Histogram() = default;
    Histogram(double lo_, double hi_, size_t bins) : lo(lo_), hi(hi_), counts(bins + 2, 0) {}

    size_t bins() const { return counts.size() - 2; }
    double width() const { return (hi - lo) / static_cast<double>(bins()); }
    void add(double x) {
        if (!(x >= lo)) {  // NaN never reaches here (validated), but keep it out of bins
            ++counts.front();
        } else if (x >= hi) {
            ++counts.back();
        } else {
            auto i = static_cast<size_t>((x - lo) / width());
            ++counts[1 + std::min(i, bins() - 1)];
        }
    }
    uint64_t total() const {
        uint64_t n = 0;
        for (uint64_t c : counts)
            n += c;
        return n;
    }
    void merge(const Histogram& o) {
        if (o.counts.size() != counts.size()) return;
        for (size_t i = 0; i < counts.size(); ++i)
            counts[i] += o.counts[i];
    }
};

}  // namespace moe
