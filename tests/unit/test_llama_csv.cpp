#include <catch2/catch.hpp>

#include "parsers/line_parser.hpp"
#include "recording_sink.hpp"

using namespace moe;
using moe::test::RecordingSink;

namespace {
RecordingSink parse_all(std::initializer_list<std::string_view> lines,
                        Format f = Format::llama_csv) {
    RecordingSink sink;
    LineParser p(f);
    for (auto l : lines)
        p.parse(l, sink);
    return sink;
}
}  // namespace

TEST_CASE("selection lines give the layer and the top-k in rank order") {
    auto s = parse_all({"12,52 40 85 110 79 113 60 130", "0,7", "3,1  2\t3 "});
    REQUIRE(s.routing.size() == 3);
    CHECK(s.routing[0].layer == 12);
    CHECK(s.routing[0].experts == std::vector<int32_t>{52, 40, 85, 110, 79, 113, 60, 130});
    CHECK(s.routing[0].token == -1);
    CHECK(s.routing[0].weights.empty());
    CHECK(s.routing[1].experts == std::vector<int32_t>{7});
    CHECK(s.routing[2].experts == std::vector<int32_t>{1, 2, 3});
    CHECK(s.rejects.empty());
}

TEST_CASE("gate_input lines: layer, token, floats in ostream notation") {
    auto s = parse_all({"gate_input,20,0,0.123 -0.456 1.5e-05 -2E+03 7"});
    REQUIRE(s.gates.size() == 1);
    CHECK(s.gates[0].layer == 20);
    CHECK(s.gates[0].token == 0);
    REQUIRE(s.gates[0].values.size() == 5);
    CHECK(s.gates[0].values[0] == Approx(0.123f));
    CHECK(s.gates[0].values[2] == Approx(1.5e-05f));
    CHECK(s.gates[0].values[3] == Approx(-2000.0f));
}

TEST_CASE("headers, blanks and other log lines are skipped, not rejected") {
    auto s = parse_all({"layer_id,expert_ids", "", "   ", "srv  update_slots: all slots are idle",
                        "llama_model_loader: loaded meta data"});
    CHECK(s.routing.empty());
    CHECK(s.rejects.empty());
    REQUIRE(s.skips.size() == 5);
    CHECK(s.skips[0].first == SkipKind::header);
    CHECK(s.skips[1].first == SkipKind::blank);
    CHECK(s.skips[2].first == SkipKind::blank);
    CHECK(s.skips[3].first == SkipKind::other);
}

TEST_CASE("malformed record lines are rejected with a reason") {
    struct Case {
        std::string_view line;
        RejectReason why;
    };
    const Case cases[] = {
        {"12", RejectReason::malformed},
        {"12,", RejectReason::malformed},
        {"12,52 40 x", RejectReason::malformed},
        {"1,-", RejectReason::malformed},  // found by fuzzing: read past the line
        {"1,3 -", RejectReason::malformed},
        {"1,- 3", RejectReason::malformed},
        {"12,52,40", RejectReason::malformed},
        {"12;52 40", RejectReason::malformed},
        {"12,52 4.5", RejectReason::malformed},
        {"12,-3 4", RejectReason::expert_out_of_range},
        {"12,70000 4", RejectReason::expert_out_of_range},
        {"99999,1 2", RejectReason::layer_out_of_range},
        {"12,1 2\x01\x02", RejectReason::binary},
        {"1\x01\xff\xfe", RejectReason::binary},
        {"gate_input,20,0,", RejectReason::malformed},
        {"gate_input,20,0,1.0 abc", RejectReason::malformed},
        {"gate_input,20,0.5,1.0", RejectReason::malformed},
        {"gate_input,20,0,1.0 nan", RejectReason::non_finite},
        {"gate_input,20,0,inf 1.0", RejectReason::non_finite},
        {"gate_input,x,0,1.0", RejectReason::malformed},
        {"123456789012345678901234,1", RejectReason::malformed},
    };
    for (const auto& c : cases) {
        INFO(c.line);
        RecordingSink sink;
        LineParser p(Format::llama_csv);
        p.parse(c.line, sink);
        CHECK(sink.routing.empty());
        CHECK(sink.gates.empty());
        REQUIRE(sink.rejects.size() == 1);
        CHECK(reject_reason_name(sink.rejects[0].first) == reject_reason_name(c.why));
    }
}

TEST_CASE("binary junk that is not a record is rejected as binary, not skipped") {
    auto s =
        parse_all({std::string_view("\x7f"
                                    "ELF\x02\x01",
                                    6)});
    REQUIRE(s.rejects.size() == 1);
    CHECK(s.rejects[0].first == RejectReason::binary);
}
