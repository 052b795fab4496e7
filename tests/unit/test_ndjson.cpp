#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "ingest/stream_ingest.hpp"
#include "parsers/line_parser.hpp"
#include "recording_sink.hpp"

using namespace moe;
using moe::test::RecordingSink;

namespace {
RecordingSink parse(std::string_view line, Format f = Format::ndjson) {
    return test::parse_as(f, line);
}
}  // namespace

TEST_CASE("every field alias of docs/INPUTS.md (Log formats)") {
    const char* layer_keys[] = {"layer", "layer_id"};
    const char* expert_keys[] = {"experts", "expert_ids", "topk_ids", "selected_experts"};
    const char* weight_keys[] = {"weights", "topk_weights", "gating_probs", "expert_weights"};
    const char* logit_keys[] = {"logits", "router_logits"};
    const char* token_keys[] = {"token", "token_idx", "token_pos", "token_id"};
    const char* request_keys[] = {"request", "req_id", "request_id", "sample_id", "problem_id"};
    const char* tag_keys[] = {"tag", "dataset"};
    for (auto lk : layer_keys)
        for (auto ek : expert_keys)
            for (auto wk : weight_keys) {
                const auto tk = token_keys[(std::string(ek).size() + std::string(wk).size()) % 4];
                const auto rk = request_keys[std::string(wk).size() % 5];
                const auto gk = tag_keys[std::string(lk).size() % 2];
                const auto xk = logit_keys[std::string(ek).size() % 2];
                const std::string line = std::string("{\"") + lk + "\": 7, \"" + ek +
                                         "\": [3, 1], \"" + wk + "\": [0.75, 0.25], \"" + tk +
                                         "\": 12, \"" + rk + "\": \"r-1\", \"" + gk +
                                         "\": \"ko\", \"" + xk + "\": [0.1, 2.5, -1, 1.5e-3]}";
                INFO(line);
                auto s = parse(line);
                REQUIRE(s.rejects.empty());
                REQUIRE(s.routing.size() == 1);
                const auto& r = s.routing[0];
                CHECK(r.layer == 7);
                CHECK(r.experts == std::vector<int32_t>{3, 1});
                CHECK(r.weights == std::vector<float>{0.75f, 0.25f});
                CHECK(r.token == 12);
                CHECK(r.tag == "ko");
                CHECK(r.logits.size() == 4);
                CHECK(r.logits[3] == Approx(1.5e-3f));
            }
}

TEST_CASE("real Mixtral trace line") {
    auto s = parse(
        R"({"dataset": "gsm8k", "problem_id": 0, "layer": 0, "experts": [7, 0], "gating_probs": [0.8019357919692993, 0.1980641782283783], "token_idx": 3})");
    REQUIRE(s.routing.size() == 1);
    CHECK(s.routing[0].tag == "gsm8k");
    CHECK(s.routing[0].token == 3);
    CHECK(s.routing[0].weights[0] == Approx(0.8019358f));
}

TEST_CASE("meta records carry model facts") {
    auto s = parse(
        R"({"type": "meta", "model_id": "Qwen/Qwen3-30B-A3B", "num_experts": 128, "top_k": 8})");
    REQUIRE(s.metas.size() == 1);
    CHECK(s.meta_models[0] == "Qwen/Qwen3-30B-A3B");
    CHECK(s.metas[0].num_experts == 128);
    CHECK(s.metas[0].top_k == 8);
    CHECK(s.routing.empty());
}

TEST_CASE("gate_input records, single and batched") {
    auto s = parse(R"({"type": "gate_input", "layer": 20, "token": 3, "values": [0.5, -1e-5, 2]})");
    REQUIRE(s.gates.size() == 1);
    CHECK(s.gates[0].layer == 20);
    CHECK(s.gates[0].token == 3);
    CHECK(s.gates[0].values == std::vector<float>{0.5f, -1e-5f, 2.0f});
    s = parse(R"({"type": "gate_input", "layer": 21, "values": [[1, 2], [3, 4], [5, 6]]})");
    REQUIRE(s.gates.size() == 3);
    CHECK(s.gates[2].token == 2);
    CHECK(s.gates[2].values == std::vector<float>{5, 6});
}

TEST_CASE("a batch record (lists of lists) gives one record per token") {
    auto s = parse(
        R"({"layer": 4, "topk_ids": [[1, 2], [3, 4], [5, 6]], "topk_weights": [[0.6, 0.4], [0.5, 0.5], [0.9, 0.1]], "token_pos": 10, "tag": "code"})");
    REQUIRE(s.rejects.empty());
    REQUIRE(s.routing.size() == 3);
    CHECK(s.routing[0].token == 10);
    CHECK(s.routing[2].token == 12);
    CHECK(s.routing[1].experts == std::vector<int32_t>{3, 4});
    CHECK(s.routing[2].weights == std::vector<float>{0.9f, 0.1f});
    CHECK(s.routing[1].tag == "code");
}

TEST_CASE("malformed JSON records: each with its reason") {
    struct Case {
        const char* line;
        RejectReason why;
    };
    const Case cases[] = {
        {R"({"layer": 1, "experts": [1, 2])", RejectReason::invalid_json},
        {R"({"layer": 1, "experts": [1, 2]} trailing)", RejectReason::invalid_json},
        {R"(not json at all)", RejectReason::invalid_json},
        {R"([1, 2, 3])", RejectReason::invalid_json},
        {R"({"layer": "one", "experts": [1, 2]})", RejectReason::malformed},
        {R"({"layer": 1, "experts": ["a", "b"]})", RejectReason::malformed},
        {R"({"layer": 1, "experts": [[1, 2], 3]})", RejectReason::malformed},
        {R"({"layer": 1, "experts": [1.5, 2]})", RejectReason::malformed},
        {R"({"experts": [1, 2]})", RejectReason::missing_field},
        {R"({"layer": 1})", RejectReason::missing_field},
        {R"({"layer": 1, "experts": [1, 2], "weights": [0.5, NaN]})", RejectReason::non_finite},
        {R"({"layer": 1, "experts": [1, 2], "weights": [Infinity, 0.5]})",
         RejectReason::non_finite},
        {R"({"layer": 1, "experts": [1, 2], "weights": [1e39, 0.5]})",
         RejectReason::non_finite},  // a double, but beyond any float
        {R"({"layer": 1, "experts": [[1, 2], [3, 4]], "weights": [[0.5, 0.5]]})",
         RejectReason::wrong_vector_length},
        {R"({"layer": -2, "experts": [1, 2]})", RejectReason::layer_out_of_range},
        {R"({"type": "gate_input", "layer": 1, "values": [1e999]})",
         RejectReason::invalid_json},  // not a double
        {R"({"type": "meta", "num_experts": 99999999})", RejectReason::invalid_meta},
        {R"({"type": "gate_input", "layer": 3, "values": []})",
         RejectReason::malformed},  // found by fuzzing
        {R"({"layer": 3, "experts": [[1, 2], []]})", RejectReason::malformed},
        {R"({"layer": 3, "experts": []})", RejectReason::malformed},
        {R"({"samples": 2, "samples": [9]})",
         RejectReason::malformed},  // found by fuzzing: recursed

    };
    for (const auto& c : cases) {
        INFO(c.line);
        auto s = parse(c.line);
        CHECK(s.routing.empty());
        CHECK(s.gates.empty());
        REQUIRE(s.rejects.size() == 1);
        CHECK(reject_reason_name(s.rejects[0].first) == reject_reason_name(c.why));
    }
}

TEST_CASE("auto-detection is per line: NDJSON, CSV and eval-callback mixed") {
    RecordingSink sink;
    LineParser p(Format::auto_detect);
    for (std::string_view l : {"layer_id,expert_ids", "3,1 2", R"({"layer": 4, "experts": [5, 6]})",
                               "Layer 5 - Selected Expert IDs (top-2):", "  Token 0: [7, 8]",
                               "  Token 1: [9, 10]", "some server chatter", "gate_input,3,0,1 2"})
        p.parse(l, sink);
    REQUIRE(sink.routing.size() == 4);
    CHECK(sink.routing[1].layer == 4);
    CHECK(sink.routing[2].layer == 5);
    CHECK(sink.routing[3].experts == std::vector<int32_t>{9, 10});
    CHECK(sink.routing[3].token == 1);
    CHECK(sink.gates.size() == 1);
    CHECK(sink.rejects.empty());
    CHECK(sink.skips.size() == 3);  // CSV header, eval header, chatter
}

TEST_CASE("eval-callback text: malformed token lines are rejected") {
    RecordingSink sink;
    LineParser p(Format::eval_callback);
    for (std::string_view l : {"Layer 2 - Selected Expert IDs (top-2):", "  Token 0: [1, 2]",
                               "  Token 1: [1, x]", "  Token 2: 1, 2", "  Token 3: [4, 5] junk"})
        p.parse(l, sink);
    CHECK(sink.routing.size() == 1);
    CHECK(sink.rejects.size() == 3);
    // Token lines before any header are not records.
    RecordingSink s2;
    LineParser p2(Format::auto_detect);
    p2.parse("  Token 0: [1, 2]", s2);
    CHECK(s2.routing.empty());
    CHECK(s2.skips.size() == 1);
}

namespace {
const char* kRouterDoc = R"({
  "config": {"model": "mistralai/Mixtral-8x7B"},
  "num_experts": 8,
  "top_k": 2,
  "samples": [
    {"sample_id": 0, "layers": [
      {"layer": 0, "router_logits_sample": [[0.1, 2.0, -1.0, 0.5, 0.0, 0.3, 1.9, -0.2], [1, 1, 1, 1, 1, 1, 3, 2]],
       "selected_experts": [[1, 6], [6, 7]], "expert_weights": [[0.52, 0.48], [0.6, 0.4]]},
      {"layer": 1, "router_logits_sample": [[0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 2, 1]],
       "selected_experts": [[7, 0], [6, 7]], "expert_weights": [[0.7, 0.3], [0.55, 0.45]]}
    ]},
    {"sample_id": 1, "layers": [
      {"layer": 0, "router_logits_sample": [[0, 5, 0, 0, 0, 0, 0, 4]], "selected_experts": [[1, 7]],
       "expert_weights": [[0.73, 0.27]]}
    ]}
  ],
  "dataset": "humaneval"
}
)";
}  // namespace

TEST_CASE("router-pipeline document: a value beyond float range is non-finite, not a record") {
    // Found by fuzzing: 2e125 is a finite double, so the document reader passed it on, and
    // as a float it is infinite. Each such row costs itself only.
    for (const auto& [from, to] :
         {std::pair{"0.48]", "1e39]"}, std::pair{"2.0, -1.0", "-4e38, -1.0"}}) {
        std::string doc = kRouterDoc;
        const size_t at = doc.find(from);
        REQUIRE(at != std::string::npos);
        doc.replace(at, std::strlen(from), to);
        INFO(doc.substr(at > 40 ? at - 40 : 0, 80));
        // The parser's own promise (tests/fuzz/fuzz_sink.hpp): every weight and logit it
        // passes on is a finite float; validation later is not the only guard.
        RecordingSink sink;
        LineParser(Format::auto_detect).parse_document(doc, sink);
        CHECK(sink.routing.size() == 4);
        for (const auto& r : sink.routing) {
            for (float w : r.weights)
                CHECK(std::isfinite(w));
            for (float x : r.logits)
                CHECK(std::isfinite(x));
        }
        REQUIRE(sink.rejects.size() == 1);
        CHECK(sink.rejects[0].first == RejectReason::non_finite);
    }
}

TEST_CASE("router-pipeline document, pretty-printed over many lines, fed in pieces") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::auto_detect);
    const std::string doc = kRouterDoc;
    for (size_t i = 0; i < doc.size(); i += 37)
        in.feed(std::string_view(doc).substr(i, 37));
    CHECK(stats.records == 5);
    CHECK(stats.meta_records == 1);
    CHECK(stats.total_rejects() == 0);
    CHECK(agg.num_experts() == 8);
    CHECK(agg.num_experts_stated());
    CHECK(agg.model_id() == "mistralai/Mixtral-8x7B");
    const auto tag = agg.find_tag("humaneval");
    REQUIRE(tag);
    const LayerStats& l0 = *agg.tag(*tag).layer(0);
    CHECK(l0.tokens == 3);
    CHECK(l0.hits == std::vector<uint64_t>{0, 2, 0, 0, 0, 0, 2, 2});
    CHECK(l0.weight_mass[1] == Approx(0.52 + 0.73));
    CHECK(in.consumed() == doc.size());
}

TEST_CASE("router-pipeline document on one line, and without a final newline") {
    std::string one_line;
    for (char c : std::string(kRouterDoc))
        if (c != '\n') one_line += c;
    RecordingSink sink;
    LineParser p(Format::auto_detect);
    p.parse(one_line, sink);
    CHECK(sink.routing.size() == 5);
    CHECK(sink.routing[4].tag == "humaneval");
    CHECK(sink.routing[4].logits.size() == 8);

    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::auto_detect);
    std::string doc = kRouterDoc;
    doc.pop_back();  // json.dump() ends with "}", no newline
    in.feed(doc);
    CHECK(stats.records == 5);
    CHECK(in.consumed() == doc.size());
}

TEST_CASE("an unfinished document is not counted; its offset stays at its start") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::auto_detect);
    // Two records: layer 0's k is settled at once (NDJSON: a llama-server batch's second
    // row would wait for the stream's strided-view verdict).
    const std::string two =
        "{\"layer\": 0, \"experts\": [1, 2]}\n{\"layer\": 0, \"experts\": [3, 2]}\n";
    in.feed(two);
    const std::string doc = kRouterDoc;
    in.feed(std::string_view(doc).substr(0, doc.size() / 2));
    CHECK(stats.records == 2);
    CHECK(in.consumed() == two.size());
    in.finish();
    CHECK(stats.records == 2);
    CHECK(stats.rejects[static_cast<size_t>(RejectReason::partial_line)] == 1);
}
