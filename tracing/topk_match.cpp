#include "tracing/topk_match.hpp"

#include <algorithm>

namespace moe {

TopKMatch match_topk(std::span<const int32_t> a, std::span<const float> wa,
                     std::span<const int32_t> b, std::span<const float> wb) {
    TopKMatch m;
    const bool weighted = wa.size() == a.size() && wb.size() == b.size() && !a.empty() &&
                          !b.empty() && !wa.empty() && !wb.empty();
    double mass = 0;
    for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = 0; j < b.size(); ++j)
            if (a[i] == b[j]) {
                ++m.shared;
                if (weighted) mass += std::min(wa[i], wb[j]);
                break;
            }
    const size_t k = std::max(a.size(), b.size());
    const size_t united = a.size() + b.size() - m.shared;
    m.top1 = !a.empty() && !b.empty() && a[0] == b[0];
    m.exact = a.size() == b.size() && m.shared == a.size();
    m.overlap = k ? static_cast<double>(m.shared) / static_cast<double>(k) : 0;
    m.jaccard = united ? static_cast<double>(m.shared) / static_cast<double>(united) : 0;
    if (weighted) m.weight_mass = mass;
    return m;
}

}  // namespace moe
