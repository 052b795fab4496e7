// Issue 11: messy real logs. One odd record costs only itself; implausible timestamps,
// impossible meta records and a byte order mark are handled visibly; long runs of
// identical routing are reported (and can be excluded).
#include <catch2/catch.hpp>

#include <string>

#include "analytics/aggregates.hpp"
#include "ingest/stream_ingest.hpp"

using namespace moe;

namespace {
uint64_t rejects(const SourceStats& s, RejectReason r) {
    return s.rejects[static_cast<size_t>(r)];
}

// `n` llama-server CSV records of layers 0..3, k = 4, the experts varying.
std::string csv_records(int n) {
    std::string s;
    for (int i = 0; i < n; ++i)
        s += std::to_string(i % 4) + "," + std::to_string(i % 5) + " " + std::to_string(5 + i % 3) +
             " 9 " + std::to_string(10 + i % 6) + "\n";
    return s;
}
}  // namespace

TEST_CASE("one short first record of a layer does not poison it: the majority k decides") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::llama_csv);
    in.feed("layer_id,expert_ids\n1,1 2 3\n" + csv_records(400));
    in.finish();
    const LayerStats* l1 = agg.tag(kAllTag).layer(1);
    REQUIRE(l1);
    CHECK(l1->top_k == 4);
    CHECK(l1->tokens == 100);  // every good record of layer 1
    CHECK(rejects(stats, RejectReason::topk_changed) == 1);
    CHECK(stats.records == 400);
    CHECK(agg.tag(kAllTag).global.tokens == 400);
}

TEST_CASE("records held on top-k probation survive a checkpoint and count once") {
    Aggregates agg;
    SourceStats stats;
    std::string state;
    uint64_t offset = 0;
    // NDJSON: llama-server rows after a batch's first would also wait for the stream's
    // strided-view verdict.
    {
        StreamIngest in(agg, stats, Format::ndjson);
        in.feed(
            "{\"layer\": 2, \"experts\": [1, 2, 3]}\n{\"layer\": 2, \"experts\": [1, 2, 3, "
            "4]}\n");  // 1:1, undecided
        CHECK(stats.records == 0);
        state = in.checkpoint();
        offset = in.consumed();
    }
    StreamIngest again(agg, stats, Format::ndjson);
    again.reset(offset);
    REQUIRE(again.restore(state));
    again.line("{\"layer\": 2, \"experts\": [5, 6, 7, 8]}");
    CHECK(agg.tag(kAllTag).layer(2)->tokens == 2);
    CHECK(agg.tag(kAllTag).layer(2)->top_k == 4);
    CHECK(rejects(stats, RejectReason::topk_changed) == 1);
}

TEST_CASE("a stated top-k decides without probation; a layer alone at the end is counted") {
    AnalyticsOptions o;
    o.top_k = 4;
    Aggregates agg(o);
    SourceStats stats;
    StreamIngest in(agg, stats, Format::llama_csv);
    in.feed("layer_id,expert_ids\n1,1 2 3\n1,1 2 3 4\n");
    CHECK(stats.records == 1);  // counted at once
    CHECK(rejects(stats, RejectReason::topk_changed) == 1);

    Aggregates agg2;
    SourceStats s2;
    StreamIngest in2(agg2, s2, Format::llama_csv);
    in2.feed("layer_id,expert_ids\n7,1 2 3\n");
    CHECK(s2.records == 0);  // held: one record cannot tell
    in2.finish();
    CHECK(s2.records == 1);
}

TEST_CASE("implausible timestamps are bad_timestamp rejects") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::ndjson);
    in.feed(
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": 1800000000}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": 1e300}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": -1e18}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": NaN}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": null}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": 12}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": 1800000001}\n");
    in.finish();
    CHECK(stats.records == 2);
    CHECK(rejects(stats, RejectReason::bad_timestamp) == 5);  // 1e300, -1e18, NaN, null, 12
    CHECK(agg.timeline().buckets().size() == 2);              // layer 0 and all layers, one bucket

    // The daemon knows the time: a day ahead of it is the limit.
    Aggregates live;
    SourceStats ls;
    StreamIngest d(live, ls, Format::ndjson);
    d.set_arrival_time(1800000000);
    d.feed(
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": 1800080000}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": 1800090000}\n"
        "{\"layer\": 0, \"experts\": [1, 2], \"ts\": 4000000000}\n");
    d.finish();
    CHECK(ls.records == 1);
    CHECK(rejects(ls, RejectReason::bad_timestamp) == 2);
}

TEST_CASE("meta records stating impossible counts are invalid_meta") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::ndjson);
    in.feed(
        "{\"type\": \"meta\", \"top_k\": 100000}\n"
        "{\"type\": \"meta\", \"num_experts\": 0}\n"
        "{\"type\": \"meta\", \"num_experts\": 5000}\n"
        "{\"type\": \"meta\", \"num_experts\": 8, \"top_k\": 2}\n");
    CHECK(rejects(stats, RejectReason::invalid_meta) == 3);
    CHECK(rejects(stats, RejectReason::expert_out_of_range) == 0);
    CHECK(stats.meta_records == 1);
    CHECK(agg.num_experts() == 8);
}

TEST_CASE("a UTF-8 byte order mark does not cost the first record") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::auto_detect);
    in.feed(
        "\xEF\xBB\xBF{\"layer\": 0, \"experts\": [1, 2]}\n{\"layer\": 0, \"experts\": [3, 2]}\n");
    in.finish();
    CHECK(stats.records == 2);
    CHECK(stats.skipped_lines == 0);
}

TEST_CASE("rejected records create no tag") {
    AnalyticsOptions o;
    o.max_tags = 3;  // "all" + two
    Aggregates agg(o);
    SourceStats stats;
    StreamIngest in(agg, stats, Format::ndjson);
    in.feed(
        "{\"tag\": \"bad1\", \"layer\": 0, \"experts\": [1, 1]}\n"
        "{\"tag\": \"bad2\", \"layer\": -4, \"experts\": [1, 2]}\n"
        "{\"tag\": \"good\", \"layer\": 0, \"experts\": [1, 2]}\n"
        "{\"tag\": \"good\", \"layer\": 0, \"experts\": [3, 2]}\n");
    in.finish();
    CHECK_FALSE(agg.find_tag("bad1"));
    CHECK_FALSE(agg.find_tag("bad2"));
    REQUIRE(agg.find_tag("good"));
    CHECK(agg.tag(*agg.find_tag("good")).layer(0)->tokens == 2);
}

TEST_CASE("runs of identical routing are reported, and excluded on request") {
    // Two warm-up runs of 8,192 identical records of layer 0 (with weights), around 300
    // ordinary ones, and a short run of 100 identical records (kept either way).
    std::string log;
    auto rec = [](int e1, int e2) {
        return "{\"layer\": 0, \"experts\": [" + std::to_string(e1) + ", " + std::to_string(e2) +
               "], \"weights\": [0.75, 0.25]}\n";
    };
    for (int i = 0; i < 150; ++i)
        log += rec(i % 7, 7 + i % 5);
    for (int i = 0; i < 8192; ++i)
        log += rec(1, 2);
    for (int i = 0; i < 100; ++i)
        log += rec(3, 4);
    for (int i = 0; i < 150; ++i)
        log += rec(i % 7, 7 + i % 5);
    for (int i = 0; i < 8192; ++i)
        log += rec(5, 6);
    for (bool exclude : {false, true}) {
        AnalyticsOptions o;
        o.keep_suspect = !exclude;
        Aggregates agg(o);
        SourceStats stats;
        StreamIngest in(agg, stats, Format::ndjson);
        in.feed(log);
        in.finish();
        CHECK(stats.identical_runs == 2);
        CHECK(stats.identical_records == 2 * 8192);
        const LayerStats* l = agg.tag(kAllTag).layer(0);
        REQUIRE(l);
        if (!exclude) {
            CHECK(stats.identical_excluded == 0);
            CHECK(l->tokens == 300 + 100 + 2 * 8192);
        } else {
            CHECK(stats.identical_excluded == 2 * 8191);  // each run's first record stays
            CHECK(l->tokens == 300 + 100 + 2);
            CHECK(l->hits[1] == 1 + 2 * 22);  // the run's first record, i % 7 == 1 twice
            // Counted where they belong: the layer and all layers, under "all".
            CHECK(l->left_out[static_cast<size_t>(Suspect::identical_run)] == 2 * 8191);
            CHECK(agg.tag(kAllTag).global.left_out[0] == 2 * 8191);
        }
        CHECK(stats.records == l->tokens);
    }
}
