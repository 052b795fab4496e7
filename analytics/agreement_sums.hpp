// How two top-k selections of one token agree (docs/FIGURES.md "Routing diff"), and sums of
// that over many tokens: what `moescope diff` reports and moescoped --diff keeps per layer
// (stored in the live_diff table), so it sits below tracing/ and storage/ alike.
#pragma once

#include <cmath>
#include <cstdint>

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

// One layer of a live diff of two tags (moescoped --diff A:B, docs/FIGURES.md "Routing
// diff"): the aligned tokens' agreement and the records counted without a partner. Live, a
// record still waiting for its partner is in neither; one pushed out of the window, or a
// second record of a token and layer in one run, is counted at once.
struct DiffLayerCounts {
    AgreementSums agreement;
    uint64_t only_a = 0, only_b = 0;
    uint64_t evicted = 0;  // of only_a + only_b: pushed out of the window
    bool dirty = false;    // changed since the last save

    void add(const DiffLayerCounts& o) {
        agreement.add(o.agreement);
        only_a += o.only_a;
        only_b += o.only_b;
        evicted += o.evicted;
    }
};

}  // namespace moe
