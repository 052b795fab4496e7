#include "analytics/layer_stats.hpp"

namespace moe {

void LayerStats::grow(size_t E, bool with_cooc) {
    if (E > hits.size()) {
        hits.resize(E, 0);
        top1.resize(E, 0);
        ema.resize(E);
        weight_mass.resize(E, 0.0);
    }
    if (E > kMaxCoocExperts)
        cooc = CoocMatrix{};  // too large to keep (see cooccurrence.hpp)
    else if (with_cooc)
        cooc.resize(E);
}

void LayerStats::add(LayerStats& layer, LayerStats& all, const RoutingRecord& r,
                     const LayerOptions& o, std::vector<double>& scratch) {
    const auto k = static_cast<uint32_t>(r.experts.size());
    for (LayerStats* s : {&layer, &all}) {
        ++s->tokens;
        if (s->top_k == 0) s->top_k = k;
    }
    // Hits and EMA of both in one pass over the ids: the loop, not the arithmetic, was
    // most of the cost. Each EMA gets the same operations in the same order as update().
    uint64_t* hl = layer.hits.data();
    uint64_t* ha = all.hits.data();
    if (o.ema) {
        const double gl = layer.ema.step(k, o.ema_decay), ga = all.ema.step(k, o.ema_decay);
        double* vl = layer.ema.data();
        double* va = all.ema.data();
#pragma GCC unroll 8
        for (int32_t e : r.experts) {
            ++hl[e];
            vl[e] += gl;
            ++ha[e];
            va[e] += ga;
        }
        layer.ema.settle();
        all.ema.settle();
    } else {
#pragma GCC unroll 8
        for (int32_t e : r.experts) {
            ++hl[e];
            ++ha[e];
        }
    }
    layer.add_rest(r, o, true, scratch);
    LayerOptions oa = o;
    oa.caches = nullptr;  // a cache is per layer: none for all layers combined
    all.add_rest(r, oa, false, scratch);
}

void LayerStats::add_rest(const RoutingRecord& r, const LayerOptions& o, bool with_cooc,
                          std::vector<double>& scratch) {
    // One count per token, so unlike hits these are independent draws (chi-square on top-1).
    if (!r.experts.empty()) ++top1[static_cast<size_t>(r.experts.front())];
    if (!r.weights.empty()) {
        ++weighted_tokens;
        for (size_t i = 0; i < r.experts.size(); ++i)
            weight_mass[static_cast<size_t>(r.experts[i])] += static_cast<double>(r.weights[i]);
        if (o.logits) logits.add_weights(r.weights);
    }
    if (with_cooc && o.cooc && cooc.num_experts() == hits.size()) cooc.add(r.experts);
    if (o.logits && !r.logits.empty()) logits.add_logits(r.logits, r.experts, scratch);
    if (o.caches && !o.caches->empty()) {
        if (!caches.configured()) caches.configure(*o.caches);
        caches.record(r.experts);  // rank order: docs/FIGURES.md "Cache simulation"
    }
    dirty = true;
}

void LayerStats::add_counts(int32_t first, std::span<const double> counts, uint32_t k) {
    const uint64_t per_token = k ? k : 1;
    const uint64_t before = counted / per_token;
    for (size_t i = 0; i < counts.size(); ++i) {
        const auto n = static_cast<uint64_t>(counts[i]);
        hits[static_cast<size_t>(first) + i] += n;
        counted += n;
    }
    tokens += counted / per_token - before;
    if (top_k == 0) top_k = k;
    dirty = true;
}

void LayerStats::append(const LayerStats& later, double decay) {
    EmaVector continued = ema;
    continued.continue_with(later.ema, later.tokens, decay);
    merge(later);
    ema = std::move(continued);
    ema.resize(num_experts());
}

void LayerStats::merge(const LayerStats& o) {
    resize(o.num_experts(), o.cooc.num_experts() > 0);
    tokens += o.tokens;
    if (top_k == 0) top_k = o.top_k;
    weighted_tokens += o.weighted_tokens;
    counted += o.counted;
    add_to(left_out, o.left_out);
    std::vector<double> ema_sum = ema.values();
    ema_sum.resize(num_experts(), 0.0);
    const std::vector<double> other_ema = o.ema.values();
    for (size_t e = 0; e < o.num_experts(); ++e) {
        hits[e] += o.hits[e];
        top1[e] += o.top1[e];
        weight_mass[e] += o.weight_mass[e];
        ema_sum[e] += other_ema[e];
    }
    ema.assign(ema_sum, ema.norm() + o.ema.norm());
    cooc.merge(o.cooc);
    logits.merge(o.logits);
    caches.merge(o.caches);
    dirty = true;
}

}  // namespace moe
