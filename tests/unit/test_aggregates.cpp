#include <catch2/catch.hpp>

#include <random>

#include "analytics/aggregates.hpp"
#include "cli/source_report.hpp"
#include "ingest/stream_ingest.hpp"

using namespace moe;

namespace {
std::optional<RejectReason> add(Aggregates& agg, int32_t layer, std::vector<int32_t> experts,
                                std::vector<float> weights = {}, TagId tag = kAllTag) {
    RoutingRecord r;
    r.layer = layer;
    r.experts = experts;
    r.weights = weights;
    return agg.add_routing(tag, r);
}
}  // namespace

TEST_CASE("semantic validation rejects bad records and counts nothing from them") {
    Aggregates agg;
    REQUIRE_FALSE(add(agg, 0, {1, 2}));
    CHECK(add(agg, 0, {3, 3}) == RejectReason::duplicate_expert);
    CHECK(add(agg, 0, {1, 2, 3}) == RejectReason::topk_changed);
    CHECK(add(agg, 0, {1, 2}, {0.5f}) == RejectReason::wrong_vector_length);
    CHECK(add(agg, 0, {1, 2}, {0.5f, NAN}) == RejectReason::non_finite);
    CHECK(add(agg, -1, {1, 2}) == RejectReason::layer_out_of_range);
    CHECK(add(agg, 0, {1, 70000}) == RejectReason::expert_out_of_range);
    CHECK(agg.tag(kAllTag).layer(0)->tokens == 1);
    CHECK(agg.num_experts() == 3);  // largest id + 1

    // Once the expert count is stated, ids beyond it are out of range.
    MetaRecord m;
    m.num_experts = 8;
    REQUIRE_FALSE(agg.apply_meta(m));
    CHECK(add(agg, 1, {7, 8}) == RejectReason::expert_out_of_range);
    CHECK_FALSE(add(agg, 1, {7, 6}));
    m.num_experts = 16;
    CHECK(agg.apply_meta(m) == RejectReason::expert_out_of_range);  // contradicts the stated 8
    CHECK(agg.num_experts() == 8);

    // A stated top-k is a model fact too.
    MetaRecord k;
    k.top_k = 2;
    REQUIRE_FALSE(agg.apply_meta(k));
    CHECK(add(agg, 3, {1, 2, 3}) == RejectReason::topk_changed);  // a new layer, but k = 3
    CHECK_FALSE(add(agg, 3, {1, 2}));
    k.top_k = 4;
    CHECK(agg.apply_meta(k) == RejectReason::topk_changed);
}

TEST_CASE("a stated expert count below ids already counted is refused") {
    Aggregates agg;
    REQUIRE_FALSE(add(agg, 0, {1, 9}));
    MetaRecord m;
    m.num_experts = 4;
    CHECK(agg.apply_meta(m) == RejectReason::expert_out_of_range);
}

TEST_CASE("tagged records count under their tag and under all; weights add to weight mass") {
    Aggregates agg;
    const TagId code = agg.tag_id("code");
    REQUIRE_FALSE(add(agg, 2, {0, 1}, {0.75f, 0.25f}, code));
    REQUIRE_FALSE(add(agg, 2, {1, 3}, {}, kAllTag));
    agg.pad_to_num_experts();
    const LayerStats& all = *agg.tag(kAllTag).layer(2);
    const LayerStats& c = *agg.tag(code).layer(2);
    CHECK(all.tokens == 2);
    CHECK(c.tokens == 1);
    CHECK(all.hits == std::vector<uint64_t>{1, 2, 0, 1});
    CHECK(c.hits == std::vector<uint64_t>{1, 1, 0, 0});
    CHECK(c.weight_mass[0] == Approx(0.75));
    CHECK(all.weighted_tokens == 1);
    CHECK(agg.tag(kAllTag).global.tokens == 2);
    CHECK(agg.tag_id("code") == code);
    CHECK(agg.tag_id("") == kAllTag);
    CHECK(agg.tag_id("all") == kAllTag);
}

TEST_CASE("gate vectors pair with the nearest logged layer below, within one forward pass") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::llama_csv);
    // Pass 1: layers 20, 21, 23 for tokens 0 and 1. Pass 2 (layer drops back): 20, 21 token 0.
    in.feed(
        "gate_input,20,0,1 0\ngate_input,20,1,0 1\n"
        "gate_input,21,0,1 1\ngate_input,21,1,0 1\n"
        "gate_input,23,0,2 2\n"
        "gate_input,20,0,1 0\ngate_input,21,0,0 1\n");
    const auto& g = agg.tag(kAllTag).gates;
    const GatePairStats& p2021 = g.at({GateTokens::all, 20, 21});
    CHECK(p2021.pairs == 3);  // tokens 0 and 1 in pass 1, token 0 in pass 2
    CHECK(g.at({GateTokens::first, 20, 21}).pairs == 2);
    const GatePairStats& p2123 = g.at({GateTokens::all, 21, 23});
    CHECK(p2123.pairs == 1);  // 21 -> 23: 22 is not logged
    CHECK(p2123.metrics[static_cast<size_t>(GateMetric::cosine_similarity)].mean == Approx(1.0));
    CHECK(g.count({GateTokens::all, 23, 20}) == 0);  // never across passes
    // (1,0)->(1,1), (0,1)->(0,1), (1,0)->(0,1): cosine 1/sqrt2, 1, 0
    const auto& cs = p2021.metrics[static_cast<size_t>(GateMetric::cosine_similarity)];
    CHECK(cs.mean == Approx((1 / std::sqrt(2.0) + 1 + 0) / 3));
    CHECK(cs.min == Approx(0.0).margin(1e-12));
    CHECK(stats.gate_records == 7);
}

TEST_CASE("gate vectors never pair across a llama-server restart (header line)") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::llama_csv);
    in.feed("gate_input,20,0,1 0\nlayer_id,expert_ids\ngate_input,21,0,1 1\ngate_input,22,0,1 1\n");
    const auto& g = agg.tag(kAllTag).gates;
    CHECK(g.count({GateTokens::all, 20, 21}) == 0);
    CHECK(g.at({GateTokens::all, 21, 22}).pairs == 1);
}

TEST_CASE("gate vectors of a different length are rejected") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::llama_csv);
    in.feed("gate_input,1,0,1 2 3\ngate_input,2,0,1 2\n");
    CHECK(stats.gate_records == 1);
    CHECK(stats.rejects[static_cast<size_t>(RejectReason::wrong_vector_length)] == 1);
    CHECK(stats.reject_samples[static_cast<size_t>(RejectReason::wrong_vector_length)][0] ==
          "gate_input,2,0,1 2");
}

TEST_CASE("stream ingest: partial last line is never parsed, only reported at the end") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::auto_detect);
    // Layer 0's records are not consecutive: a second row of a batch would wait for the
    // stream's strided-view verdict (ingest/strided_policy.hpp).
    in.feed("layer_id,expert_ids\r\n0,1 2\r\n1,1 2\r\n0,3 ");
    CHECK(stats.records == 0);  // held until a second record of layer 0 confirms k
    in.feed("4\r\n1,5 6");      // completes "0,3 4"
    CHECK(stats.records == 2);
    CHECK(in.consumed() == 21 + 7 + 7 + 7);
    in.finish();
    CHECK(stats.records == 3);  // layer 1's record, decided at the end
    CHECK(stats.rejects[static_cast<size_t>(RejectReason::partial_line)] == 1);
    CHECK(stats.skipped_lines == 1);
    CHECK(stats.lines == 4);
    CHECK(agg.tag(kAllTag).layer(0)->hits[3] == 1);
}

TEST_CASE("the llama-server strided-view defect is detected, honest batches are not flagged") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::llama_csv);
    // E = 8, k = 2: a defective 6-token batch at layer 0 lists 0..7 once in its first 4 lines.
    in.feed("0,7 1\n0,0 2\n0,3 4\n0,5 6\n0,1 2\n0,2 3\n");
    // An honest batch at layer 1: expert 1 twice in the first four lines.
    in.feed("1,1 2\n1,1 3\n1,4 5\n1,6 7\n1,0 1\n");
    // Single-token passes are never checked.
    in.feed("0,1 2\n1,3 4\n2,5 6\n");
    CHECK(stats.batches_checked == 2);
    CHECK(stats.batches_strided == 1);
    CHECK(strided_warning(stats).find("1 of 2 multi-token batches") != std::string::npos);
    SourceStats honest;
    honest.batches_checked = 10;
    honest.batches_strided = 1;  // chance happens: no warning below half
    CHECK(strided_warning(honest).empty());
}

TEST_CASE("a stream checkpoint resumes pairing and eval-callback state exactly") {
    const std::string part1 =
        "gate_input,20,0,1 0\ngate_input,20,1,0 1\nLayer 3 - Selected Expert IDs (top-2):\n  Token "
        "0: [1, 2]\n"
        "0,7 1\n0,0 2\n";
    const std::string part2 =
        "  Token 1: [3, 4]\ngate_input,21,0,1 1\ngate_input,21,1,1 1\n0,3 4\n0,5 6\n";
    Aggregates whole_agg;
    SourceStats whole_stats;
    StreamIngest whole(whole_agg, whole_stats, Format::auto_detect);
    whole.feed(part1 + part2);
    whole.finish();  // decides the strided-view verdict: records wait for it (E = 8, k = 2)

    Aggregates agg;
    SourceStats s1, s2;
    std::string state;
    {
        StreamIngest a(agg, s1, Format::auto_detect);
        a.feed(part1);
        state = a.checkpoint();
    }
    StreamIngest b(agg, s2, Format::auto_detect);
    b.reset(part1.size());
    REQUIRE(b.restore(state));
    b.feed(part2);
    b.finish();
    CHECK(s1.records + s2.records == whole_stats.records);
    CHECK(agg.tag(kAllTag).layer(3)->hits == whole_agg.tag(kAllTag).layer(3)->hits);
    CHECK(agg.tag(kAllTag).gates.at({GateTokens::all, 20, 21}).pairs == 2);
    CHECK(s1.batches_checked + s2.batches_checked == whole_stats.batches_checked);
    CHECK_FALSE(b.restore("garbage"));
}

TEST_CASE("memory stays bounded whatever ids, layers and tags a hostile stream sends") {
    AnalyticsOptions o;
    o.max_tags = 4;
    o.memory_budget = 4u << 20;  // 4 MiB of per-layer state
    Aggregates agg(o);
    SourceStats stats;
    StreamIngest in(agg, stats, Format::auto_detect);
    std::string lines;
    // Layers 1 and 3 alternate, with other ids each time: neither a multi-token batch nor an
    // identical run, whose rows the quality checks would hold.
    for (int t = 0; t < 10; ++t)
        lines += "{\"layer\": " + std::to_string(t % 2 ? 3 : 1) + ", \"experts\": [1, " +
                 std::to_string(2 + t) + "], \"tag\": \"t" + std::to_string(t) + "\"}\n";
    lines += "5,4095 1\n";  // E jumps to 4,096: no co-occurrence matrix at that size
    for (int l = 0; l < 1000; ++l)
        lines += std::to_string(l) + ",1 2\n";
    in.feed(lines);
    in.finish();                  // layers with one record each are held until then
    CHECK(agg.tag_count() == 4);  // all + 3 tags; the 7 others count under "all"
    CHECK(agg.tag_cap_reached());
    CHECK(agg.tag(kAllTag).layer(1)->tokens == 6);
    CHECK(agg.num_experts() == 4096);
    CHECK(agg.tag(kAllTag).layer(5)->cooc.num_experts() == 0);
    CHECK(stats.rejects[static_cast<size_t>(RejectReason::memory_budget)] > 900);
    CHECK(agg.approx_bytes() <= o.memory_budget);
    CHECK(stats.rejects[static_cast<size_t>(RejectReason::expert_out_of_range)] == 0);
    in.feed("3,4096 1\n");
    CHECK(stats.rejects[static_cast<size_t>(RejectReason::expert_out_of_range)] == 1);
}

TEST_CASE("the expert checks name the first bad id in order, for every top-k size") {
    // The reference: ids are checked in rank order; the first one out of range, or equal to
    // an earlier one, decides the reason. Random top-k of 0-12 ids near the limits, with
    // duplicates and bad ids at every position, with and without a stated expert count.
    std::mt19937 rng(18);
    for (const uint32_t stated : {0u, 128u, 256u}) {
        Aggregates agg;
        if (stated) {
            MetaRecord m;
            m.num_experts = stated;
            REQUIRE_FALSE(agg.apply_meta(m));
        }
        const int32_t limit = stated ? static_cast<int32_t>(stated) : kMaxExpert + 1;
        const std::vector<int32_t> odd = {
            -1,        -2, INT32_MIN,  INT32_MAX,      limit,     limit + 1,
            limit - 1, 0,  kMaxExpert, kMaxExpert + 1, 0x7fffff00};
        for (int n = 0; n < 200000; ++n) {
            std::vector<int32_t> ids(rng() % 13);
            for (int32_t& e : ids)
                e = rng() % 8 == 0 ? odd[rng() % odd.size()] : static_cast<int32_t>(rng() % limit);
            if (ids.size() > 1 && rng() % 3 == 0) ids[rng() % ids.size()] = ids[rng() % ids.size()];
            std::optional<RejectReason> want;
            if (ids.empty()) want = RejectReason::malformed;
            for (size_t i = 0; i < ids.size() && !want; ++i) {
                if (ids[i] < 0 || ids[i] >= limit) want = RejectReason::expert_out_of_range;
                for (size_t j = 0; j < i && !want; ++j)
                    if (ids[j] == ids[i]) want = RejectReason::duplicate_expert;
            }
            RoutingRecord r;
            r.layer = 0;
            r.experts = ids;
            INFO("ids " << Catch::Detail::stringify(ids) << " limit " << limit);
            REQUIRE(agg.check_routing(r, NAN) == want);
        }
    }
}

TEST_CASE("the expert count grows to the largest id wherever it stands in the top-k") {
    // Top-8 records take a vector max (analytics/aggregates.cpp largest_id), other sizes a
    // loop: the largest id in every rank, ids up to 3,000.
    std::mt19937 rng(8);
    for (size_t k : {1, 2, 7, 8, 9})
        for (size_t rank = 0; rank < k; ++rank) {
            Aggregates agg;
            uint32_t want = 0;
            for (int step = 0; step < 40; ++step) {
                std::vector<int32_t> ids;
                const int32_t top = static_cast<int32_t>(k + rng() % 3000);
                while (ids.size() < k) {
                    const int32_t e = static_cast<int32_t>(rng() % static_cast<uint32_t>(top));
                    if (std::find(ids.begin(), ids.end(), e) == ids.end()) ids.push_back(e);
                }
                ids[rank] = top;  // the others are below it
                want = std::max(want, static_cast<uint32_t>(top) + 1);
                REQUIRE_FALSE(add(agg, 3, ids));
                REQUIRE(agg.num_experts() == want);
            }
        }
}
