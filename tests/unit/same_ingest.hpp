// What parallel ingest must equal: one pass's counters and aggregates (integers identical,
// floats within 1e-12 relative), and a log shaped like a busy server's to compare them on.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"

namespace moe::test {

// Which multi-token batches of server_log() have the strided-view defect: a random half
// (a detection test, not a real server), every one (the patched server), or those of every
// other run between restarts (two builds writing one log).
enum class Strided { some, all, every_other_run };

// A server's log as llama-server writes it with gate logging on: forward passes of a batch
// of 1-16 tokens; per layer, each token's gate input, then the batch's selection lines.
// Multi-token batches with the strided-view defect list every expert once in their first
// E/k lines; restarts (every `restart_every` passes) rewrite the header. 6 layers, 32
// experts, top-4, gate dim 8.
inline std::string server_log(unsigned seed, int passes, Strided which = Strided::some,
                              int restart_every = 97) {
    std::mt19937 rng(seed);
    std::string out = "layer_id,expert_ids\n";
    std::vector<int> ids(32);
    for (int e = 0; e < 32; ++e)
        ids[static_cast<size_t>(e)] = e;
    std::uniform_real_distribution<float> value(-1, 1);
    int run = 0;
    for (int pass = 0; pass < passes; ++pass) {
        if (pass % restart_every == restart_every - 1) out += "layer_id,expert_ids\n", ++run;
        const int batch = std::array{1, 1, 1, 4, 12, 16}[rng() % 6];
        // The patched server writes every multi-token batch from the wrong view, also those
        // too short to show it; the random half of `some` only batches long enough.
        const bool strided = which == Strided::some
                                 ? batch >= 8 && rng() % 2
                                 : batch >= 2 && (which == Strided::all || run % 2 == 1);
        for (int layer = 0; layer < 6; ++layer) {
            for (int t = 0; t < batch; ++t) {
                out += "gate_input," + std::to_string(layer) + "," + std::to_string(t) + ",";
                for (int d = 0; d < 8; ++d)
                    out += std::to_string(value(rng)) + (d < 7 ? " " : "\n");
            }
            std::shuffle(ids.begin(), ids.end(), rng);
            for (int t = 0; t < batch; ++t) {
                if (!strided || t % 8 == 0) std::shuffle(ids.begin(), ids.end(), rng);
                const size_t from = strided ? static_cast<size_t>(t % 8) * 4 : 0;
                out += std::to_string(layer) + ",";
                for (size_t k = 0; k < 4; ++k)
                    out += std::to_string(ids[from + k]) + (k < 3 ? " " : "\n");
            }
        }
    }
    return out;
}

inline void require_same_ingest(const Aggregates& a_agg, const SourceStats& a_stats,
                                const Aggregates& b_agg, const SourceStats& b_stats) {
    REQUIRE(a_stats.lines == b_stats.lines);
    REQUIRE(a_stats.records == b_stats.records);
    REQUIRE(a_stats.bytes == b_stats.bytes);
    REQUIRE(a_stats.offset == b_stats.offset);
    REQUIRE(a_stats.rejects == b_stats.rejects);
    REQUIRE(a_stats.reject_samples == b_stats.reject_samples);
    REQUIRE(a_stats.identical_runs == b_stats.identical_runs);
    REQUIRE(a_stats.identical_records == b_stats.identical_records);
    REQUIRE(a_stats.gate_records == b_stats.gate_records);
    REQUIRE(a_stats.batches_checked == b_stats.batches_checked);
    REQUIRE(a_stats.batches_strided == b_stats.batches_strided);
    REQUIRE(a_stats.identical_excluded == b_stats.identical_excluded);
    REQUIRE(a_stats.strided_streams == b_stats.strided_streams);
    REQUIRE(a_stats.strided_excluded == b_stats.strided_excluded);
    REQUIRE(a_agg.tag_count() == b_agg.tag_count());
    const TagStats& x = a_agg.tag(kAllTag);
    const TagStats& y = b_agg.tag(kAllTag);
    REQUIRE(x.layer_ids() == y.layer_ids());
    for (int32_t l : x.layer_ids()) {
        const LayerStats& p = *x.layer(l);
        const LayerStats& q = *y.layer(l);
        REQUIRE(p.tokens == q.tokens);
        REQUIRE(p.hits == q.hits);
        REQUIRE(p.top1 == q.top1);
        REQUIRE(p.top_k == q.top_k);
        REQUIRE(p.ema.norm() == Approx(q.ema.norm()).epsilon(1e-12));
        for (size_t e = 0; e < p.num_experts(); ++e)
            REQUIRE(p.ema.value(e) == Approx(q.ema.value(e)).epsilon(1e-12));
        REQUIRE(p.cooc.counts() == q.cooc.counts());
        REQUIRE(p.left_out == q.left_out);
    }
    REQUIRE(x.global.left_out == y.global.left_out);
    REQUIRE(x.gates.size() == y.gates.size());
    for (const auto& [key, g] : x.gates) {
        INFO("gate pair " << key.from_layer << "->" << key.to_layer);
        REQUIRE(y.gates.count(key));
        const GatePairStats& h = y.gates.at(key);
        REQUIRE(g.pairs == h.pairs);
        for (size_t m = 0; m < kGateMetricCount; ++m) {
            REQUIRE(g.metrics[m].n == h.metrics[m].n);
            REQUIRE(g.metrics[m].mean == Approx(h.metrics[m].mean).epsilon(1e-12));
            REQUIRE(g.metrics[m].m2 == Approx(h.metrics[m].m2).epsilon(1e-9));
            REQUIRE(g.metrics[m].min == h.metrics[m].min);
            REQUIRE(g.metrics[m].max == h.metrics[m].max);
        }
    }
    REQUIRE(x.global.tokens == y.global.tokens);
    for (size_t e = 0; e < x.global.num_experts(); ++e)
        REQUIRE(x.global.ema.value(e) == Approx(y.global.ema.value(e)).epsilon(1e-12));
}

}  // namespace moe::test
