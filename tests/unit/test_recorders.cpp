// Engine recorders (issue 15): SGLang's logical_count JSON and per-rank CSV, lmdeploy's
// experts_counts dumps, llama.cpp moe-trace CSV; the count records they make and what the
// aggregates do with them (docs/ARCHITECTURE.md "Count-only sources").
#include <fstream>

#include <catch2/catch.hpp>

#include "cli/input_files.hpp"
#include "ingest/stream_ingest.hpp"
#include "parsers/line_parser.hpp"
#include "recording_sink.hpp"
#include "temp_dir.hpp"

using namespace moe;
using moe::test::RecordingSink;

namespace {

RecordingSink parse_lines(std::initializer_list<std::string_view> lines,
                          Format f = Format::auto_detect) {
    RecordingSink sink;
    LineParser p(f);
    for (std::string_view l : lines)
        p.parse(l, sink);
    return sink;
}

std::vector<double> row(std::initializer_list<double> v) {
    return v;
}

// Feeds `text` as a whole file (analyze's way: feed, then finish).
void ingest(Aggregates& agg, SourceStats& stats, std::string_view text) {
    StreamIngest in(agg, stats, Format::auto_detect);
    in.feed(text);
    in.finish();
}

}  // namespace

TEST_CASE("sglang-json: [layers][experts] gives one count record per layer") {
    const auto s = parse_lines({R"({"logical_count": [[0, 0, 0], [3, 1, 2.0]]})"});
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[0].layer == 0);
    CHECK(s.counts[1].layer == 1);
    CHECK(s.counts[1].first_expert == 0);
    CHECK(s.counts[1].counts == row({3, 1, 2}));
    CHECK(s.rejects.empty());
}

TEST_CASE("sglang-json: [steps][layers][experts] is summed over steps; other keys ignored") {
    const auto s =
        parse_lines({R"({"rank": 0, "logical_count": [[[1, 2], [0, 5]], [[3, 4], [1, 1]]]})"});
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[0].counts == row({4, 6}));
    CHECK(s.counts[1].counts == row({1, 6}));
}

TEST_CASE("sglang-json: a bad layer row costs only itself") {
    const auto s = parse_lines({R"({"logical_count": [[1, 2], [1, "x"], [4], [5, 6]]})"});
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[0].layer == 0);
    CHECK(s.counts[1].layer == 3);
    CHECK(s.counts[1].counts == row({5, 6}));
    REQUIRE(s.rejects.size() == 2);
    CHECK(s.rejects[0].first == RejectReason::malformed);
}

TEST_CASE("sglang-json: a bad step costs only itself; broken JSON is one reject") {
    const auto s = parse_lines(
        {R"({"logical_count": [[[1, 1]], [[2, "x"]], [[3, 3]]]})", R"({"logical_count": [[1, 2)"});
    REQUIRE(s.counts.size() == 1);
    CHECK(s.counts[0].counts == row({4, 4}));
    REQUIRE(s.rejects.size() == 2);
    CHECK(s.rejects[1].first == RejectReason::invalid_json);
}

TEST_CASE("NDJSON lines are not taken for recorder files") {
    const auto s = parse_lines({R"({"layer": 1, "experts": [2, 3]})"});
    CHECK(s.counts.empty());
    REQUIRE(s.routing.size() == 1);
}

TEST_CASE("lmdeploy-json: a pretty-printed [layers][experts] document") {
    RecordingSink sink;
    LineParser p;
    p.parse_document("[\n  [\n    5,\n    0\n  ],\n  [\n    1,\n    2\n  ]\n]", sink);
    REQUIRE(sink.counts.size() == 2);
    CHECK(sink.counts[0].counts == row({5, 0}));
    CHECK(sink.counts[1].counts == row({1, 2}));
}

TEST_CASE("sglang-csv: rows count after the header only; a bad row costs only itself") {
    const auto s =
        parse_lines({"layer_id,expert_id,count", "3,0,24990", "3,18,abc", "3,-1,5", "4,2,7\r"});
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[0].layer == 3);
    CHECK(s.counts[0].first_expert == 0);
    CHECK(s.counts[0].counts == row({24990}));
    CHECK(s.counts[1].first_expert == 2);
    REQUIRE(s.rejects.size() == 2);
    CHECK(s.rejects[0].first == RejectReason::malformed);
    CHECK(s.rejects[1].first == RejectReason::expert_out_of_range);
}

TEST_CASE("moe-trace-csv: one selection per row; before the header 12,5 is llama-csv") {
    const auto before = parse_lines({"12,5"});
    CHECK(before.counts.empty());
    CHECK(before.routing.size() == 1);
    const auto s = parse_lines({"layer,expert", "12,5", "12,5,9"});
    REQUIRE(s.counts.size() == 1);
    CHECK(s.counts[0].counts == row({1}));
    CHECK(s.rejects.size() == 1);
}

TEST_CASE("Aggregates: counts become hits; all-zero layers are not shown; count-only") {
    Aggregates agg;
    const std::vector<double> dense{0, 0, 0, 0}, moe{6, 0, 2, 0};
    CHECK_FALSE(agg.add_counts(kAllTag, {{}, 0, 0, dense}));
    CHECK_FALSE(agg.add_counts(kAllTag, {{}, 1, 0, moe}));
    const TagStats& t = agg.tag(kAllTag);
    CHECK(t.layer_ids() == std::vector<int32_t>{1});
    CHECK(t.layer(1)->hits == std::vector<uint64_t>{6, 0, 2, 0});
    CHECK(t.layer(1)->tokens == 8);  // k not stated: one token per selection
    CHECK(t.global.count_only());
    CHECK(agg.num_experts() == 4);
}

TEST_CASE("Aggregates: with a stated top-k, tokens are counted / k, exact across records") {
    AnalyticsOptions o;
    o.top_k = 2;
    Aggregates agg(o);
    const std::vector<double> one{1};
    for (int i = 0; i < 5; ++i)
        CHECK_FALSE(agg.add_counts(kAllTag, {{}, 0, 3, one}));
    CHECK(agg.tag(kAllTag).layer(0)->tokens == 2);
    CHECK(agg.tag(kAllTag).layer(0)->top_k == 2);
    CHECK(agg.tag(kAllTag).layer(0)->hits[3] == 5);
}

TEST_CASE("Aggregates: negative, fractional and non-finite counts are rejected") {
    Aggregates agg;
    const std::vector<double> neg{1, -1}, frac{0.5}, inf{INFINITY};
    CHECK(agg.add_counts(kAllTag, {{}, 0, 0, neg}) == RejectReason::malformed);
    CHECK(agg.add_counts(kAllTag, {{}, 0, 0, frac}) == RejectReason::malformed);
    CHECK(agg.add_counts(kAllTag, {{}, 0, 0, inf}) == RejectReason::non_finite);
    CHECK(agg.add_counts(kAllTag, {{}, kMaxLayer + 1, 0, frac}) ==
          RejectReason::layer_out_of_range);
    CHECK(agg.tag(kAllTag).layer_ids().empty());
}

TEST_CASE("Mixed data (routing records too) is not count-only") {
    Aggregates agg;
    const std::vector<double> c{1, 1};
    REQUIRE_FALSE(agg.add_counts(kAllTag, {{}, 0, 0, c}));
    const std::vector<int32_t> e{0};
    RoutingRecord r;
    r.layer = 0;
    r.experts = e;
    REQUIRE_FALSE(agg.add_routing(kAllTag, r));
    CHECK_FALSE(agg.tag(kAllTag).global.count_only());
}

TEST_CASE("A recorder's JSON without a final newline is whole; an NDJSON line is not") {
    Aggregates agg;
    SourceStats s;
    ingest(agg, s, R"({"logical_count": [[2, 1]]})");
    CHECK(s.records == 1);
    CHECK(s.rejects[static_cast<size_t>(RejectReason::partial_line)] == 0);
    Aggregates agg2;
    SourceStats s2;
    ingest(agg2, s2, R"({"layer": 0, "experts": [1]})");
    CHECK(s2.records == 0);
    CHECK(s2.rejects[static_cast<size_t>(RejectReason::partial_line)] == 1);
}

TEST_CASE("expand_inputs: a directory is its files; lmdeploy: the last step's dump only") {
    moe::test::TempDir dir;
    for (const char* name : {"rank0_step10_experts_counts.json", "rank0_step20_experts_counts.json",
                             "rank1_step20_experts_counts.json", "b.csv", ".hidden"})
        std::ofstream(dir.file(name)) << "x\n";
    const auto got = expand_inputs({{dir.path().string(), "t"}});
    REQUIRE(got.size() == 2);
    CHECK(got[0].path == dir.file("b.csv"));
    CHECK(got[1].path == dir.file("rank0_step20_experts_counts.json"));
    CHECK(got[1].tag == "t");
}

TEST_CASE("routed_experts: [tokens][layers][k] is one routing record per token and layer") {
    const auto s = parse_lines(
        {R"({"routed_experts": [[[1, 2], [3, 4]], [[5, 6], [7, 0]]], "request": "r1"})"});
    REQUIRE(s.routing.size() == 4);
    CHECK(s.routing[1].layer == 1);
    CHECK(s.routing[1].token == 0);
    CHECK(s.routing[1].experts == std::vector<int32_t>{3, 4});
    CHECK(s.routing[2].token == 1);
    CHECK(s.routing[2].experts == std::vector<int32_t>{5, 6});
}

TEST_CASE("routed_experts: SGLang's base64 int32 form needs num_layers and top_k") {
    // int32 little-endian 1, 2, 3, 4: one token, two layers, top-2.
    const auto s = parse_lines(
        {R"({"routed_experts": "AQAAAAIAAAADAAAABAAAAA==", "num_layers": 2, "top_k": 2})",
         R"({"routed_experts": "AQAAAAIAAAADAAAABAAAAA=="})",
         R"({"routed_experts": "AQAA*AIAAAA=", "num_layers": 1, "top_k": 2})",
         R"({"routed_experts": "AQAAAAIAAAADAAAA", "num_layers": 2, "top_k": 2})"});
    REQUIRE(s.routing.size() == 2);
    CHECK(s.routing[0].experts == std::vector<int32_t>{1, 2});
    CHECK(s.routing[1].layer == 1);
    CHECK(s.routing[1].experts == std::vector<int32_t>{3, 4});
    REQUIRE(s.rejects.size() == 3);
    CHECK(s.rejects[0].first == RejectReason::missing_field);
    CHECK(s.rejects[1].first == RejectReason::malformed);  // not base64
    CHECK(s.rejects[2].first == RejectReason::malformed);  // 3 ids: not tokens x 2 x 2
}

TEST_CASE("routed_experts: a ragged request is one reject") {
    const auto s = parse_lines({R"({"routed_experts": [[[1, 2], [3]], [[5, 6], [7, 0]]]})"});
    CHECK(s.routing.empty());
    REQUIRE(s.rejects.size() == 1);
    CHECK(s.rejects[0].first == RejectReason::malformed);
}

TEST_CASE("phase joins the tag: TAG@PHASE, or PHASE alone") {
    const auto s = parse_lines({R"({"layer": 0, "experts": [1], "tag": "code", "phase": "decode"})",
                                R"({"layer": 0, "experts": [1], "phase": "prefill"})",
                                R"({"routed_experts": [[[1]]], "phase": "decode"})"});
    REQUIRE(s.routing.size() == 3);
    CHECK(s.routing[0].tag == "code@decode");
    CHECK(s.routing[1].tag == "prefill");
    CHECK(s.routing[2].tag == "decode");
}

TEST_CASE("count CSV: the header seen is kept across a checkpoint, forgotten on reset") {
    LineParser p;
    RecordingSink sink;
    p.parse("layer_id,expert_id,count", sink);
    StateWriter w;
    p.save(w);
    const std::string state = w.take();
    LineParser q;
    StateReader r(state);
    REQUIRE(q.restore(r));
    q.parse("2,3,4", sink);
    REQUIRE(sink.counts.size() == 1);
    CHECK(sink.counts[0].counts == row({4}));
    q.reset();
    q.parse("2,3,4", sink);  // no header any more: a llama-csv line with bad ids
    CHECK(sink.counts.size() == 1);
}

TEST_CASE("lmdeploy-json: a step that is not an array is one reject (fuzz crash)") {
    // Found by fuzz_count_records: the second step is a number, whose layer list was
    // iterated although it was never read (a member access through a null document).
    RecordingSink sink;
    LineParser p(*parse_format("lmdeploy-json"));
    p.parse_document("[\n [\n [ \n    102,\n  5,2\n  ]],\n  0, 0]", sink);
    // The good step [[102, 5, 2]] counts; each of the two numbers costs only itself.
    REQUIRE(sink.counts.size() == 1);
    CHECK(sink.counts[0].counts == row({102, 5, 2}));
    REQUIRE(sink.rejects.size() == 2);
    CHECK(sink.rejects[0].first == RejectReason::malformed);
}

namespace {
RecordingSink counts_json(std::initializer_list<std::string_view> lines, std::string key,
                          std::string tokens_key = {}) {
    static FormatSettings s;  // the Format points at it while the lines are parsed
    s = {std::move(key), std::move(tokens_key)};
    return parse_lines(lines, Format(parse_format("counts-json")->name(), &s));
}
}  // namespace

TEST_CASE("counts-json: the table under --counts-key, rows by index or by layer id") {
    auto s = counts_json({R"({"n": 7, "pop": [[1, 2], [3, 4]]})"}, "pop");
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[1].layer == 1);
    CHECK(s.counts[1].counts == row({3, 4}));
    CHECK(s.metas.empty());
    s = counts_json({R"({"domain": "arxiv", "counts": {"0": [5, 1], "15": [2, 2], "x": [1, 1]}})"},
                    "counts");
    REQUIRE(s.counts.size() == 2);
    CHECK(s.counts[0].layer == 0);
    CHECK(s.counts[1].layer == 15);
    CHECK(s.counts[1].counts == row({2, 2}));
    REQUIRE(s.rejects.size() == 1);  // "x" is no layer id: that row alone
    CHECK(s.rejects[0].first == RejectReason::layer_out_of_range);
    s = counts_json({R"({"other": [[1, 2]]})"}, "pop");  // another object: skipped, as text
    CHECK(s.counts.empty());
    CHECK(s.skips.size() == 1);
}

TEST_CASE("counts-json: a token count gives k only when every layer agrees on a whole k") {
    // 6 tokens, top-2: 12 selections per layer (a dense all-zero layer does not count).
    auto s = counts_json({R"({"tokens": 6, "pop": [[5, 7], [0, 0], [6, 6]]})"}, "pop", "tokens");
    REQUIRE(s.metas.size() == 1);
    CHECK(s.metas[0].top_k == 2);
    CHECK(s.counts.size() == 3);
    CHECK(s.rejects.empty());
    // fiddler's total_input_tokens counts words: 9466 selections / 3151 is no k.
    s = counts_json({R"({"total_input_tokens": 3151, "pop": [[4733, 4733]]})"}, "pop",
                    "total_input_tokens");
    CHECK(s.metas.empty());
    CHECK(s.counts.size() == 1);  // the counts themselves are right
    REQUIRE(s.rejects.size() == 1);
    CHECK(s.rejects[0].first == RejectReason::invalid_meta);
    CHECK(s.rejects[0].second.find("3.004 per token") != std::string::npos);
    // Layers that disagree: no k either.
    s = counts_json({R"({"tokens": 2, "pop": [[2, 2], [4, 4]]})"}, "pop", "tokens");
    CHECK(s.metas.empty());
    CHECK(s.rejects.size() == 1);
}

TEST_CASE("counts-json claims nothing without a key, so auto-detection is unchanged") {
    const auto s = parse_lines({R"({"pop": [[1, 2]]})"});
    CHECK(s.counts.empty());
}

TEST_CASE("A stream of another model is refused at its first record, once") {
    Aggregates agg;
    SourceStats base, other, fine;
    ingest(agg, base, "{\"layer\": 0, \"experts\": [1, 2]}\n{\"layer\": 0, \"experts\": [3, 4]}\n");
    REQUIRE(base.records == 2);
    StreamIngest in(agg, other, Format::auto_detect);
    in.refuse_other_model();
    std::string lines;
    for (int i = 0; i < 100; ++i)
        lines += "{\"layer\": 0, \"experts\": [1, 2, 3, 4]}\n";
    in.feed(lines);
    in.finish();
    CHECK(in.refused());
    CHECK(other.records == 0);
    CHECK(other.total_rejects() == 1);
    const auto& why = other.reject_samples[static_cast<size_t>(RejectReason::other_model)];
    REQUIRE(why.size() == 1);
    CHECK(why[0].find("select 4 experts") != std::string::npos);
    CHECK(why[0].find("top-k 2") != std::string::npos);
    // After a first good record, a bad one is a record's reject, not the stream's refusal.
    StreamIngest ok(agg, fine, Format::auto_detect);
    ok.refuse_other_model();
    ok.feed("{\"layer\": 0, \"experts\": [5, 6]}\n{\"layer\": 0, \"experts\": [1, 2, 3]}\n");
    ok.finish();
    CHECK_FALSE(ok.refused());
    CHECK(fine.records == 1);
    CHECK(fine.rejects[static_cast<size_t>(RejectReason::topk_changed)] == 1);
}
