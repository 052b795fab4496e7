#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "analytics/aggregates.hpp"
#include "analytics/ema_vector.hpp"
#include "ingest/parallel_ingest.hpp"
#include "ingest/stream_ingest.hpp"

using namespace moe;

namespace {

AnalyticsOptions standard() {
    AnalyticsOptions o;
    apply_analytics_set("standard", o);
    return o;
}

// llama-server selection lines: 8 layers, 64 experts, top-4, a header now and then.
std::string selection_log(unsigned seed, int records) {
    std::mt19937 rng(seed);
    std::string out = "layer_id,expert_ids\n";
    for (int i = 0; i < records; ++i) {
        if (i % 5000 == 4999) out += "layer_id,expert_ids\n";  // a server restart
        std::vector<int> ids(64);
        for (int e = 0; e < 64; ++e)
            ids[static_cast<size_t>(e)] = e;
        std::shuffle(ids.begin(), ids.end(), rng);
        out += std::to_string(i % 8) + ",";
        for (int k = 0; k < 4; ++k)
            out += std::to_string(ids[static_cast<size_t>(k)]) + (k < 3 ? " " : "\n");
    }
    return out;
}

struct Run {
    Aggregates agg;
    SourceStats stats;
    ParallelIngestResult result;
    explicit Run(const AnalyticsOptions& o) : agg(o) {}
};

void sequential(Run& r, std::string_view bytes) {
    StreamIngest ingest(r.agg, r.stats, Format::llama_csv);
    ingest.feed(bytes);
    r.stats.offset = ingest.consumed();
    ingest.finish();
    r.agg.pad_to_num_experts();
}

void parallel(Run& r, std::string_view bytes, unsigned threads) {
    r.result = ingest_parallel(bytes, r.agg, r.stats, Format::llama_csv,
                               LineSplitter::kDefaultMaxLine, threads);
    r.agg.pad_to_num_experts();
}

void require_same(const Run& a, const Run& b) {
    REQUIRE(a.stats.lines == b.stats.lines);
    REQUIRE(a.stats.records == b.stats.records);
    REQUIRE(a.stats.bytes == b.stats.bytes);
    REQUIRE(a.stats.offset == b.stats.offset);
    REQUIRE(a.stats.rejects == b.stats.rejects);
    REQUIRE(a.stats.reject_samples == b.stats.reject_samples);
    REQUIRE(a.stats.identical_runs == b.stats.identical_runs);
    REQUIRE(a.stats.identical_records == b.stats.identical_records);
    REQUIRE(a.agg.tag_count() == b.agg.tag_count());
    const TagStats& x = a.agg.tag(kAllTag);
    const TagStats& y = b.agg.tag(kAllTag);
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
    }
    REQUIRE(x.global.tokens == y.global.tokens);
    for (size_t e = 0; e < x.global.num_experts(); ++e)
        REQUIRE(x.global.ema.value(e) == Approx(y.global.ema.value(e)).epsilon(1e-12));
}

}  // namespace

TEST_CASE("an EMA continued over a later part equals one pass over both", "[parallel]") {
    std::mt19937 rng(7);
    const double d = 0.999;
    EmaVector whole, first, second;
    for (EmaVector* v : {&whole, &first, &second})
        v->resize(12);
    std::vector<std::vector<int32_t>> records;
    for (int i = 0; i < 3000; ++i)
        records.push_back({static_cast<int32_t>(rng() % 6), static_cast<int32_t>(6 + rng() % 6)});
    for (size_t i = 0; i < records.size(); ++i) {
        whole.update(records[i], d);
        (i < 1000 ? first : second).update(records[i], d);
    }
    first.continue_with(second, 2000, d);
    REQUIRE(first.norm() == Approx(whole.norm()).epsilon(1e-12));
    for (size_t e = 0; e < 12; ++e) {
        REQUIRE(whole.value(e) > 0);
        REQUIRE(first.value(e) == Approx(whole.value(e)).epsilon(1e-12));
    }
}

TEST_CASE("parallel ingest of a selection log equals one pass", "[parallel]") {
    const std::string log = selection_log(3, 40000) + "2,1 2";  // a partial last line
    for (unsigned threads : {2u, 3u, 7u}) {
        Run one(standard()), many(standard());
        sequential(one, log);
        parallel(many, log, threads);
        INFO("threads " << threads);
        REQUIRE(many.result.chunks == threads);
        REQUIRE(many.result.appended == threads - 1);  // the parallel path, not the fallback
        REQUIRE(one.stats.rejects[static_cast<size_t>(RejectReason::partial_line)] == 1);
        require_same(one, many);
    }
}

TEST_CASE("a run of identical routings across a chunk start falls back to one pass", "[parallel]") {
    // The whole log is one layer's run: each chunk would see only part of it.
    std::string log = "layer_id,expert_ids\n";
    for (int i = 0; i < 2000; ++i)
        log += "4,1 2 3 4\n";
    Run one(standard()), many(standard());
    sequential(one, log);
    parallel(many, log, 4);
    REQUIRE(many.result.chunks == 4);
    REQUIRE(many.result.appended == 0);
    REQUIRE(one.stats.identical_runs == 1);
    REQUIRE(one.stats.identical_records == 2000);
    require_same(one, many);
}

TEST_CASE("a layer first seen by a later chunk with a new top-k falls back", "[parallel]") {
    // Layer 9 appears only in the second half, with a k no other layer has: one pass holds
    // its records on probation; the chunk counted them at once, so it is not appended.
    std::string log = selection_log(5, 4000);
    for (int i = 0; i < 100; ++i)
        log += "9," + std::to_string(i % 30) + " " + std::to_string(30 + i % 30) + "\n";
    Run one(standard()), many(standard());
    sequential(one, log);
    parallel(many, log, 2);
    REQUIRE(many.result.appended == 0);
    require_same(one, many);
}

TEST_CASE("options whose state spans the stream keep ingest sequential", "[parallel]") {
    AnalyticsOptions o = standard();
    REQUIRE(parallel_ingest_possible(o));
    o.exclude_identical_runs = true;
    REQUIRE_FALSE(parallel_ingest_possible(o));
    AnalyticsOptions full;  // the default set: the strided-batch check runs
    REQUIRE_FALSE(parallel_ingest_possible(full));
}
