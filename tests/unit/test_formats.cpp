// The format registry is the one list of input formats: --format, its help, detection order
// and checkpoints all come from it, and a new format is one parser plus one registry entry.
#include <algorithm>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "ingest/stream_ingest.hpp"
#include "parsers/format_registry.hpp"
#include "parsers/line_parser.hpp"
#include "parsers/number_scan.hpp"
#include "recording_sink.hpp"

using namespace moe;
using moe::test::RecordingSink;

namespace {

// A toy format, the way a new one is written (in its own file in parsers/):
//   @layer 4        sets the layer for the following lines (state that spans lines)
//   toy 1 2 3       one token's top-k at that layer
class ToyParser final : public FormatParser {
  public:
    bool claims(std::string_view line) const override {
        return line.starts_with("@layer ") || (layer_ >= 0 && line.starts_with("toy "));
    }
    void parse(std::string_view line, RecordSink& sink) override {
        const char* end = line.data() + line.size();
        if (line.starts_with("@layer ")) {
            const char* p = line.data() + 7;
            int64_t layer;
            if (!scan::parse_int(p, end, layer) || p != end || layer < 0 || layer > kMaxLayer)
                return sink.on_reject(RejectReason::malformed, line);
            layer_ = static_cast<int32_t>(layer);
            return sink.on_skip(SkipKind::context, line);
        }
        if (layer_ < 0 || !line.starts_with("toy ")) return skip_unrecognized(line, sink);
        ids_.clear();
        for (const char* p = line.data() + 4; (p = scan::skip_spaces(p, end)) < end;) {
            int64_t id;
            if (!scan::parse_int(p, end, id)) return sink.on_reject(RejectReason::malformed, line);
            ids_.push_back(static_cast<int32_t>(id));
        }
        RoutingRecord r;
        r.layer = layer_;
        r.experts = ids_;
        sink.on_routing(r);
    }
    void reset() override { layer_ = -1; }
    void save(StateWriter& w) const override {
        if (layer_ >= 0) w.put<int32_t>(layer_);
    }
    bool restore(StateReader& r) override {
        layer_ = r.get<int32_t>();
        return r.ok();
    }

  private:
    int32_t layer_ = -1;
    std::vector<int32_t> ids_;
};

FormatEntry toy_format(int priority = 50) {
    return {"toy", "the test's toy format", priority, make_parser<ToyParser>};
}

// Claims every line starting with a digit and reports which entry got it (as the layer).
template <int Id>
class GreedyParser final : public FormatParser {
  public:
    bool claims(std::string_view line) const override { return scan::is_digit(line.front()); }
    void parse(std::string_view, RecordSink& sink) override {
        const int32_t ids[] = {0};
        RoutingRecord r;
        r.layer = Id;
        r.experts = ids;
        sink.on_routing(r);
    }
};

int32_t layer_of_first_record(const FormatRegistry& reg, std::string_view line) {
    RecordingSink sink;
    LineParser p(Format::auto_detect, reg);
    p.parse(line, sink);
    REQUIRE(sink.routing.size() == 1);
    return sink.routing[0].layer;
}

}  // namespace

TEST_CASE("every registered format is a --format value, in format_names() and the help") {
    const FormatRegistry& reg = FormatRegistry::builtin();
    const auto names = format_names();
    REQUIRE(names.size() == reg.entries().size() + 1);
    CHECK(names.front() == "auto");
    CHECK(parse_format("auto") == Format::auto_detect);
    const std::string help = format_help();
    for (const FormatEntry& e : reg.entries()) {
        INFO(e.name);
        const auto f = parse_format(e.name);
        REQUIRE(f);
        CHECK(f->name() == e.name);
        CHECK(std::count(names.begin(), names.end(), std::string(e.name)) == 1);
        CHECK(help.find(" " + std::string(e.name) + (&e == &reg.entries().back() ? ";" : ",")) !=
              std::string::npos);
        LineParser forced(*f);  // its factory works
        CHECK(forced.format() == *f);
    }
    for (Format shorthand : {Format::llama_csv, Format::ndjson, Format::eval_callback})
        CHECK(reg.find(shorthand.name()) != nullptr);
    CHECK_FALSE(parse_format("bogus"));
    CHECK_FALSE(parse_format(""));
    CHECK_THROWS_AS(LineParser(Format("bogus")), std::invalid_argument);
}

TEST_CASE("the registry refuses a second entry of a name, and \"auto\"") {
    const FormatRegistry& reg = FormatRegistry::builtin();
    CHECK_THROWS_AS(reg.with({"ndjson", "again", 1, make_parser<ToyParser>}),
                    std::invalid_argument);
    CHECK_THROWS_AS(reg.with({"auto", "no", 1, make_parser<ToyParser>}), std::invalid_argument);
    CHECK_THROWS_AS(reg.with({"nofactory", "no", 1, nullptr}), std::invalid_argument);
    const FormatRegistry more = reg.with(toy_format());
    CHECK(more.entries().size() == reg.entries().size() + 1);
    CHECK(more.parse("toy"));
    CHECK_FALSE(reg.parse("toy"));  // the built-in table is not changed by with()
}

TEST_CASE("auto-detection asks the formats in priority order, the first claim wins") {
    // The built-in order: a JSON object line, then the CSV, then eval-callback text.
    const auto entries = FormatRegistry::builtin().entries();
    REQUIRE(entries.size() >= 3);
    std::vector<std::string_view> order;
    for (const FormatEntry& e : entries)
        order.push_back(e.name);
    CHECK(std::find(order.begin(), order.end(), "ndjson") <
          std::find(order.begin(), order.end(), "llama-csv"));
    CHECK(std::find(order.begin(), order.end(), "llama-csv") <
          std::find(order.begin(), order.end(), "eval-callback"));
    for (size_t i = 1; i < entries.size(); ++i)
        CHECK(entries[i - 1].priority >= entries[i].priority);

    // Two formats claiming the same line: the higher priority gets it, whatever the table order.
    const FormatRegistry empty({});
    const FormatEntry low{"low", "", 10, make_parser<GreedyParser<1>>};
    const FormatEntry high{"high", "", 20, make_parser<GreedyParser<2>>};
    CHECK(layer_of_first_record(empty.with(low).with(high), "5,1") == 2);
    CHECK(layer_of_first_record(empty.with(high).with(low), "5,1") == 2);
    // Equal priorities: table order.
    const FormatEntry same{"same", "", 10, make_parser<GreedyParser<3>>};
    CHECK(layer_of_first_record(empty.with(low).with(same), "5,1") == 1);
    CHECK(layer_of_first_record(empty.with(same).with(low), "5,1") == 3);

    // Against the built-in CSV (which claims "5,1 2"): above it the new format wins, below
    // it the CSV does (layer 5 from the line itself).
    const int csv = FormatRegistry::builtin().find("llama-csv")->priority;
    const auto with_greedy = [&](int priority) {
        return FormatRegistry::builtin().with(
            {"greedy", "", priority, make_parser<GreedyParser<9>>});
    };
    CHECK(layer_of_first_record(with_greedy(csv + 1), "5,1 2") == 9);
    CHECK(layer_of_first_record(with_greedy(csv - 1), "5,1 2") == 5);
}

TEST_CASE("a format added to the registry works end to end through StreamIngest") {
    const FormatRegistry reg = FormatRegistry::builtin().with(toy_format());

    SECTION("forced with --format toy") {
        Aggregates agg;
        SourceStats stats;
        StreamIngest in(agg, stats, *reg.parse("toy"), LineSplitter::kDefaultMaxLine, reg);
        in.feed("toy 1 2\n@layer 3\ntoy 1 2\ntoy 2 0\n12,1 2\ntoy x\n");
        CHECK(stats.records == 2);
        CHECK(stats.total_rejects() == 1);  // "toy x"
        const LayerStats* l3 = agg.tag(kAllTag).layer(3);
        REQUIRE(l3);
        CHECK(l3->tokens == 2);
        CHECK(l3->hits == std::vector<uint64_t>{1, 1, 2});
        CHECK(agg.tag(kAllTag).layer(12) == nullptr);  // CSV lines are not the toy's
    }
    SECTION("detected per line, mixed with the built-in formats") {
        Aggregates agg;
        SourceStats stats;
        StreamIngest in(agg, stats, Format::auto_detect, LineSplitter::kDefaultMaxLine, reg);
        in.feed("@layer 3\ntoy 1 2\n12,1 2\n{\"layer\": 4, \"experts\": [0, 1]}\ntoy 0 1\n");
        in.finish();  // layers 12 and 4 have one record each: held until the end
        CHECK(stats.records == 4);
        CHECK(stats.total_rejects() == 0);
        CHECK(agg.tag(kAllTag).layer(3)->tokens == 2);
        CHECK(agg.tag(kAllTag).layer(12)->tokens == 1);
        CHECK(agg.tag(kAllTag).layer(4)->tokens == 1);
    }
    SECTION("its state survives a checkpoint and a restart") {
        Aggregates agg;
        SourceStats stats;
        StreamIngest first(agg, stats, Format::auto_detect, LineSplitter::kDefaultMaxLine, reg);
        first.feed("@layer 7\n");
        const std::string state = first.checkpoint();

        StreamIngest resumed(agg, stats, Format::auto_detect, LineSplitter::kDefaultMaxLine, reg);
        resumed.reset(first.consumed());
        REQUIRE(resumed.restore(state));
        resumed.feed("toy 4 5\n");
        resumed.finish();  // a lone first record is held until then
        CHECK(stats.records == 1);
        REQUIRE(agg.tag(kAllTag).layer(7));
        CHECK(agg.tag(kAllTag).layer(7)->tokens == 1);

        // Without the checkpoint the layer is unknown and the line is ordinary text.
        StreamIngest cold(agg, stats, Format::auto_detect, LineSplitter::kDefaultMaxLine, reg);
        cold.feed("toy 4 5\n");
        cold.finish();  // a lone first record is held until then
        CHECK(stats.records == 1);
    }
}

TEST_CASE("a checkpoint written before the registry (MSS1) still resumes") {
    // Written by the previous StreamIngest after "gate_input,3,0,0.5 1.5\n" and
    // "Layer 7 - Selected Expert IDs (top-2):\n" on a source tagged "t" (offset 62):
    // eval-callback's layer 7, the strided check, one gate vector waiting at layer 3.
    static constexpr char kV1Bytes[] =
        "\x4d\x53\x53\x31\x07\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x01\x00\x00\x00\x74\x02\x00\x00\x00\x00\x00\x00\x3f\x00\x00\xc0\x3f";
    const std::string_view kV1(kV1Bytes, sizeof kV1Bytes - 1);
    Aggregates agg;
    SourceStats stats;
    stats.tag = "t";
    StreamIngest in(agg, stats, Format::auto_detect);
    in.reset(62);
    REQUIRE(in.restore(kV1));
    in.feed("  Token 0: [1, 2]\ngate_input,4,0,0.5 2.5\n");
    in.finish();  // a lone first record is held until then
    CHECK(stats.records == 1);
    CHECK(stats.total_rejects() == 0);
    const auto t = agg.find_tag("t");
    REQUIRE(t);
    REQUIRE(agg.tag(*t).layer(7));
    CHECK(agg.tag(*t).layer(7)->tokens == 1);
    // The restored vector of layer 3 pairs with the new one of layer 4.
    const auto pair = agg.tag(*t).gates.find({GateTokens::all, 3, 4});
    REQUIRE(pair != agg.tag(*t).gates.end());
    CHECK(pair->second.pairs == 1);

    // And what is written now reads back the same way.
    Aggregates agg2;
    SourceStats stats2;
    stats2.tag = "t";
    StreamIngest again(agg2, stats2, Format::auto_detect);
    again.reset(62);
    REQUIRE(again.restore(in.checkpoint()));
    again.feed("  Token 1: [3, 2]\n");
    again.finish();  // a lone first record is held until then
    CHECK(stats2.records == 1);
    REQUIRE(agg2.tag(*agg2.find_tag("t")).layer(7));

    // A damaged checkpoint is refused and leaves no state behind.
    StreamIngest damaged(agg2, stats2, Format::auto_detect);
    CHECK_FALSE(damaged.restore(kV1.substr(0, 50)));
    damaged.feed("  Token 2: [3, 2]\n");
    damaged.finish();  // a lone first record is held until then
    CHECK(stats2.records == 1);
}

TEST_CASE("saved state of a format the stream no longer uses is ignored (--format changed)") {
    Aggregates agg;
    SourceStats stats;
    StreamIngest detected(agg, stats, Format::auto_detect);
    detected.feed("Layer 4 - Selected Expert IDs (top-2):\n");
    const std::string state = detected.checkpoint();

    StreamIngest csv(agg, stats, Format::llama_csv);
    csv.reset(detected.consumed());
    CHECK(csv.restore(state));
    csv.feed("  Token 0: [1, 2]\n3,1 2\n");
    csv.finish();               // a lone first record is held until then
    CHECK(stats.records == 1);  // only the CSV line: no eval-callback parser here
    CHECK(agg.tag(kAllTag).layer(4) == nullptr);

    StreamIngest eval(agg, stats, Format::eval_callback);
    eval.reset(detected.consumed());
    CHECK(eval.restore(state));
    eval.feed("  Token 0: [1, 2]\n");
    eval.finish();  // a lone first record is held until then
    CHECK(stats.records == 2);
    REQUIRE(agg.tag(kAllTag).layer(4));
}
