#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>

#include "analytics/aggregates.hpp"
#include "analytics/ema_vector.hpp"
#include "ingest/parallel_ingest.hpp"
#include "ingest/stream_ingest.hpp"
#include "same_ingest.hpp"

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

AnalyticsOptions full_options() {
    AnalyticsOptions o;
    apply_analytics_set("full", o);
    return o;
}

struct IngestRun {
    Aggregates agg;
    SourceStats stats;
    ParallelIngestResult result;
    explicit IngestRun(const AnalyticsOptions& o) : agg(o) {}
};

void sequential(IngestRun& r, std::string_view bytes) {
    StreamIngest ingest(r.agg, r.stats, Format::llama_csv);
    ingest.feed(bytes);
    r.stats.offset = ingest.consumed();
    ingest.finish();
    r.agg.pad_to_num_experts();
}

void parallel(IngestRun& r, std::string_view bytes, unsigned threads) {
    r.result = ingest_parallel(bytes, r.agg, r.stats, Format::llama_csv,
                               LineSplitter::kDefaultMaxLine, threads);
    r.agg.pad_to_num_experts();
}

void require_same(const IngestRun& a, const IngestRun& b) {
    test::require_same_ingest(a.agg, a.stats, b.agg, b.stats);
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
        IngestRun one(standard()), many(standard());
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
    IngestRun one(standard()), many(standard());
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
    IngestRun one(standard()), many(standard());
    sequential(one, log);
    parallel(many, log, 2);
    REQUIRE(many.result.appended == 0);
    require_same(one, many);
}

TEST_CASE("parallel ingest of a server log with gates and strided batches equals one pass",
          "[parallel]") {
    // Chunk starts fall inside forward passes: the strided-batch check and the gate pairs
    // that span them are reconciled, not left to a sequential fallback. With --keep-suspect
    // a log whose batches are strided at random (a detection test); by default the patched
    // server's log, whose strided rows are left out: chunks start at a batch's first row
    // (ingest/batch_start.hpp) and assume the first chunk's verdict.
    for (const bool keep : {true, false}) {
        const std::string log =
            test::server_log(11, 900, keep ? test::Strided::some : test::Strided::all) + "3,1 2";
        AnalyticsOptions o = full_options();
        o.keep_suspect = keep;
        for (unsigned threads : {2u, 3u, 5u, 8u}) {
            IngestRun one(o), many(o);
            sequential(one, log);
            parallel(many, log, threads);
            INFO("threads " << threads << " keep " << keep);
            REQUIRE(one.stats.batches_strided > 20);
            if (keep) {
                REQUIRE(one.stats.batches_checked > one.stats.batches_strided);
                REQUIRE(one.stats.strided_excluded == 0);
            } else {
                REQUIRE(one.stats.batches_checked == one.stats.batches_strided);
                REQUIRE(one.stats.strided_streams == 10);  // every run between restarts
                REQUIRE(one.stats.strided_excluded > 1000);
            }
            REQUIRE(one.agg.tag(kAllTag).gates.at({GateTokens::all, 0, 1}).pairs > 1000);
            REQUIRE(many.result.chunks == threads);
            REQUIRE(many.result.appended == threads - 1);
            require_same(one, many);
        }
    }
}

TEST_CASE("chunks that assumed another strided-view verdict fall back, at every cut",
          "[parallel]") {
    // Runs between restarts alternate between an honest and a defective build, and chunks
    // start everywhere: where a chunk's rows depended on the verdict it assumed and one pass
    // had another, the rest is read in one pass; the result is one pass's either way.
    const std::string log = test::server_log(7, 90, test::Strided::every_other_run, 9);
    IngestRun one(full_options());
    sequential(one, log);
    REQUIRE(one.stats.strided_streams >= 3);
    REQUIRE(one.stats.strided_excluded > 100);
    size_t appended = 0;
    for (unsigned threads = 2; threads <= 40; ++threads) {
        IngestRun many(full_options());
        parallel(many, log, threads);
        INFO("threads " << threads);
        require_same(one, many);
        appended += many.result.appended;
    }
    REQUIRE(appended > 0);
}

TEST_CASE("a chunk that starts inside a batch or a pass is reconciled exactly", "[parallel]") {
    // Every cut of a short log, so that chunk starts hit each kind of line: a batch's first
    // record, its middle, a gate line before or after the pass drops back, a header.
    const std::string log = test::server_log(4, 40);
    IngestRun one(full_options());
    sequential(one, log);
    size_t appended = 0, cuts = 0;
    for (unsigned threads = 2; threads <= 40; ++threads) {
        IngestRun many(full_options());
        parallel(many, log, threads);
        INFO("threads " << threads);
        require_same(one, many);
        appended += many.result.appended;
        cuts += many.result.chunks - 1;
    }
    // Most chunks are appended: only those whose opening is too short to tell fall back.
    REQUIRE(appended * 10 > cuts * 8);
}

TEST_CASE("options whose state spans the stream keep ingest sequential", "[parallel]") {
    AnalyticsOptions o = standard();
    REQUIRE(parallel_ingest_possible(o));
    REQUIRE(parallel_ingest_possible(full_options()));  // strided check, gates, quality: reconciled
    o.caches.push_back({OnlinePolicy::lru, 4});
    REQUIRE_FALSE(parallel_ingest_possible(o));
}
