#include "decisions/cold_experts.hpp"

#include <algorithm>
#include <cmath>

namespace moe {

namespace {
double share_in(const LayerStats* l, uint32_t e) {
    if (!l || e >= l->hits.size()) return 0;
    const uint64_t s = l->selections();
    return s ? static_cast<double>(l->hits[e]) / static_cast<double>(s) : 0;
}
}  // namespace

ColdList cold_experts(const Aggregates& agg, const TagStats& tag, double threshold,
                      std::optional<int32_t> only_layer) {
    ColdList out{threshold, {}, {}};
    for (int32_t l : tag.layer_ids()) {
        if (only_layer && l != *only_layer) continue;
        const LayerStats& ls = *tag.layer(l);
        const uint64_t S = ls.selections();
        if (S == 0) continue;
        double mass = 0;
        for (double m : ls.weight_mass)
            mass += m;
        ColdLayer cl{l, agg.num_experts(), 0, S};
        const size_t first = out.cold.size();
        for (uint32_t e = 0; e < agg.num_experts(); ++e) {
            const uint64_t h = e < ls.hits.size() ? ls.hits[e] : 0;
            const double share = static_cast<double>(h) / static_cast<double>(S);
            if (share >= threshold) continue;
            ColdExpert c;
            c.layer = l;
            c.expert = e;
            c.hits = h;
            c.share = share;
            c.share_threshold = threshold;
            c.mass_share = ls.weighted_tokens && mass > 0 && e < ls.weight_mass.size()
                               ? ls.weight_mass[e] / mass
                               : NAN;
            for (TagId t = 1; t < agg.tag_count(); ++t) {  // 0 is "all"
                const TagStats& other = agg.tag(t);
                if (&other == &tag) continue;
                const LayerStats* ol = other.layer(l);
                if (!ol || ol->selections() == 0) continue;
                const double s = share_in(ol, e);
                if (c.hottest_tag.empty() || s > c.hottest_share) {
                    c.hottest_tag = other.name;
                    c.hottest_share = s;
                }
            }
            out.cold.push_back(std::move(c));
            ++cl.cold;
        }
        std::stable_sort(
            out.cold.begin() + static_cast<std::ptrdiff_t>(first), out.cold.end(),
            [](const ColdExpert& a, const ColdExpert& b) { return a.share < b.share; });
        out.layers.push_back(cl);
    }
    return out;
}

}  // namespace moe
