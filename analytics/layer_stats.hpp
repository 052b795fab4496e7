// Everything counted for one (tag, layer): the additive state behind every routing figure.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analytics/cooccurrence.hpp"
#include "analytics/ema_vector.hpp"
#include "analytics/logit_stats.hpp"
#include "analytics/online_cache.hpp"
#include "analytics/quality.hpp"
#include "parsers/record.hpp"

namespace moe {

// Which optional aggregates to keep (the benchmark's analytics sets switch them off).
struct LayerOptions {
    double ema_decay = 0.99999;
    bool ema = true;
    bool cooc = true;
    bool logits = true;
    const std::vector<CacheSpec>* caches = nullptr;  // live cache simulation (--cache-capacity)
};

struct LayerStats {
    uint64_t tokens = 0;              // T: routing records
    uint32_t top_k = 0;               // k of the first record (0: none yet)
    std::vector<uint64_t> hits;       // h_e, one per expert
    std::vector<uint64_t> top1;       // records whose first (highest-ranked) expert is e
    EmaVector ema;                    // see ema_vector.hpp
    std::vector<double> weight_mass;  // sum of routing weights given to e
    uint64_t weighted_tokens = 0;     // records that carried weights
    CoocMatrix cooc;                  // pairs selected together (not for "all layers")
    LogitStats logits;                // when records carry logits or weights
    CacheSet caches;                  // live lru/lfu caches (empty unless configured)
    uint64_t counted = 0;             // selections from engine totals (CountRecord)
    LeftOut left_out{};               // records the quality checks left out (quality.hpp)
    bool dirty = false;               // changed since the last save

    size_t num_experts() const { return hits.size(); }
    uint64_t selections() const {  // S = sum of h_e
        uint64_t s = 0;
        for (uint64_t h : hits)
            s += h;
        return s;
    }

    // Only engine totals: hits and imbalance hold, EMA, co-occurrence, logits and gate
    // distances have no data (docs/FIGURES.md "Count-only data").
    bool count_only() const { return counted > 0 && counted == selections(); }
    // Any engine totals, alone or beside records: no per-token figure, no sampling test.
    bool has_counts() const { return counted > 0; }
    // Engine totals without a stated k have selections but no token count (docs/FIGURES.md
    // "Count-only data"): `tokens` then holds the selections and is not shown. Totals
    // beside records (mixed) add estimated tokens to counted ones: not a token count either.
    bool tokens_known() const { return counted == 0 || (top_k != 0 && count_only()); }

    // Adds engine totals for experts [first, first + counts.size()), already checked to be
    // whole and non-negative. Tokens are estimated as counted / k (k = `top_k`, 1 when not
    // known), kept exact across calls.
    void add_counts(int32_t first, std::span<const double> counts, uint32_t k);

    // Grows the per-expert vectors to E entries (never shrinks). Inline: it runs before
    // every record and almost never has anything to do.
    void resize(size_t E, bool with_cooc) {
        const bool cooc_changes =
            E > kMaxCoocExperts ? cooc.num_experts() != 0 : with_cooc && E > cooc.num_experts();
        if (E > hits.size() || cooc_changes) grow(E, with_cooc);
    }

    // Counts one validated record into its layer's stats and into `all` (all layers
    // combined: no co-occurrence, no caches); ids must be < num_experts() of both.
    // `scratch` is reused memory.
    static void add(LayerStats& layer, LayerStats& all, const RoutingRecord& r,
                    const LayerOptions& o, std::vector<double>& scratch);

    // Adds another node's counts (EMA values add; docs/FIGURES.md "EMA").
    void merge(const LayerStats& o);
    // Adds the counts of the same stream's next part, read from a fresh state: as merge(),
    // but the EMA continues (EmaVector::continue_with over later's records).
    void append(const LayerStats& later, double decay);

  private:
    void grow(size_t E, bool with_cooc);
    // What add() counts after the hits and the EMA.
    void add_rest(const RoutingRecord& r, const LayerOptions& o, bool with_cooc,
                  std::vector<double>& scratch);
};

}  // namespace moe
