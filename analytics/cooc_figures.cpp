#include "analytics/cooc_figures.hpp"

#include <algorithm>
#include <cmath>

namespace moe {

std::vector<CoocPair> cooc_pairs(const LayerStats& l, CoocOrder order) {
    std::vector<CoocPair> out;
    const size_t E = l.cooc.num_experts();
    const double T = static_cast<double>(l.tokens);
    for (size_t a = 0; a < E; ++a)
        for (size_t b = a + 1; b < E; ++b) {
            const uint64_t c = l.cooc.get(a, b);
            if (c == 0) continue;
            const double C = static_cast<double>(c);
            const double ha = static_cast<double>(l.hits[a]), hb = static_cast<double>(l.hits[b]);
            out.push_back({static_cast<int32_t>(a), static_cast<int32_t>(b), c, C / ha, C / hb,
                           C / (ha + hb - C), C * T / (ha * hb)});
        }
    auto key = [order](const CoocPair& p) {
        switch (order) {
            case CoocOrder::lift:
                return p.lift;
            case CoocOrder::jaccard:
                return p.jaccard;
            case CoocOrder::count:
                break;
        }
        return static_cast<double>(p.count);
    };
    std::stable_sort(out.begin(), out.end(),
                     [&](const CoocPair& x, const CoocPair& y) { return key(x) > key(y); });
    return out;
}

}  // namespace moe
