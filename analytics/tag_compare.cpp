#include "analytics/tag_compare.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moe {

namespace {
double total(std::span<const uint64_t> h) {
    double s = 0;
    for (uint64_t x : h)
        s += static_cast<double>(x);
    return s;
}

double at(std::span<const uint64_t> h, size_t e) {
    return e < h.size() ? static_cast<double>(h[e]) : 0.0;
}

LayerComparison compare_layer(int32_t layer, const LayerStats& a, const LayerStats& b, size_t E) {
    LayerComparison c;
    c.layer = layer;
    c.tokens_a = a.tokens;
    c.tokens_b = b.tokens;
    c.js_divergence_bits = js_divergence_bits(a.hits, b.hits);
    c.experts = share_diffs(a.hits, b.hits, E);
    return c;
}
}  // namespace

std::vector<ExpertShareDiff> share_diffs(std::span<const uint64_t> a, std::span<const uint64_t> b,
                                         size_t E) {
    std::vector<ExpertShareDiff> out;
    const double Sa = total(a), Sb = total(b);
    for (size_t e = 0; e < E; ++e) {
        ExpertShareDiff d;
        d.expert = static_cast<int32_t>(e);
        d.share_a = Sa > 0 ? at(a, e) / Sa : NAN;
        d.share_b = Sb > 0 ? at(b, e) / Sb : NAN;
        d.ratio = d.share_b > 0 ? d.share_a / d.share_b
                                : (d.share_a > 0 ? std::numeric_limits<double>::infinity() : NAN);
        d.diff = d.share_a - d.share_b;
        out.push_back(d);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const ExpertShareDiff& x, const ExpertShareDiff& y) {
                         return std::fabs(x.diff) > std::fabs(y.diff);
                     });
    return out;
}

double js_divergence_bits(std::span<const uint64_t> a, std::span<const uint64_t> b) {
    const double Sa = total(a), Sb = total(b);
    if (Sa == 0 || Sb == 0) return NAN;
    double js = 0;
    for (size_t e = 0; e < std::max(a.size(), b.size()); ++e) {
        const double p = at(a, e) / Sa, q = at(b, e) / Sb, m = (p + q) / 2;
        if (p > 0) js += 0.5 * p * std::log2(p / m);
        if (q > 0) js += 0.5 * q * std::log2(q / m);
    }
    return std::max(0.0, js);
}

std::vector<LayerComparison> compare_tags(const TagStats& a, const TagStats& b, size_t E) {
    std::vector<LayerComparison> out;
    for (int32_t l : a.layer_ids())
        if (const LayerStats* lb = b.layer(l); lb && lb->tokens > 0)
            out.push_back(compare_layer(l, *a.layer(l), *lb, E));
    if (a.global.tokens > 0 && b.global.tokens > 0)
        out.push_back(compare_layer(-1, a.global, b.global, E));
    return out;
}

}  // namespace moe
