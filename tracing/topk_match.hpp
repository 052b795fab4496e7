// How two top-k selections of one token agree (docs/FIGURES.md "Routing diff"), and sums of
// that over many tokens.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

namespace moe {

struct TopKMatch {
    uint32_t shared = 0;  // |A ∩ B|
    bool top1 = false;    // the same first-ranked expert
    bool exact = false;   // the same set (rank order aside)
    double overlap = 0;   // |A ∩ B| / k, k = max(|A|, |B|)
    double jaccard = 0;   // |A ∩ B| / |A ∪ B|
    // Sum over shared experts of min(w_A, w_B); NaN unless both carry weights.
    double weight_mass = NAN;
};

// Ids within one selection are distinct (validated); k is small, so pairs are compared.
TopKMatch match_topk(std::span<const int32_t> a, std::span<const float> wa,
                     std::span<const int32_t> b, std::span<const float> wb);

// Totals over aligned tokens; means are totals / aligned (NaN when nothing is aligned).
struct AgreementSums {
    uint64_t aligned = 0;
    uint64_t top1 = 0, exact = 0;
    double overlap = 0, jaccard = 0;
    uint64_t weighted = 0;  // aligned tokens whose both selections carry weights
    double weight_mass = 0;

    void add(const TopKMatch& m) {
        ++aligned;
        top1 += m.top1;
        exact += m.exact;
        overlap += m.overlap;
        jaccard += m.jaccard;
        if (!std::isnan(m.weight_mass)) ++weighted, weight_mass += m.weight_mass;
    }
    void add(const AgreementSums& o) {
        aligned += o.aligned;
        top1 += o.top1;
        exact += o.exact;
        overlap += o.overlap;
        jaccard += o.jaccard;
        weighted += o.weighted;
        weight_mass += o.weight_mass;
    }
    static double ratio(double x, uint64_t n) { return n ? x / static_cast<double>(n) : NAN; }
    double top1_agreement() const { return ratio(static_cast<double>(top1), aligned); }
    double exact_agreement() const { return ratio(static_cast<double>(exact), aligned); }
    double mean_overlap() const { return ratio(overlap, aligned); }
    double mean_jaccard() const { return ratio(jaccard, aligned); }
    double mean_weight_mass() const { return ratio(weight_mass, weighted); }
};

}  // namespace moe
