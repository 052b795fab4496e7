// SGLang's expert-distribution statistics as JSON (python/sglang/srt/eplb/
// expert_distribution.py; the form --init-expert-location reads):
//   {"logical_count": [[...], ...]}          [layers][experts]
//   {"rank": 0, "logical_count": [[[...]]]}  [steps][layers][experts], summed over steps
// Counts only: docs/ARCHITECTURE.md "Count-only sources". Dense layers are all-zero rows and
// are not shown (Aggregates::add_counts).
#include "parsers/count_matrix.hpp"
#include "parsers/format_parser.hpp"

namespace moe {

namespace {
constexpr std::string_view kKey = "logical_count";

class SglangJsonParser final : public FormatParser {
  public:
    bool claims(std::string_view text) const override { return opens_object_with(text, kKey); }
    bool may_claim(unsigned char c) const override { return c == '{' || c == '\r' || c == '\n'; }
    void parse(std::string_view line, RecordSink& sink) override {
        if (!claims(line)) return skip_unrecognized(line, sink);
        matrix_.parse(line, kKey, sink);
    }
    bool reads_documents() const override { return true; }
    void parse_document(std::string_view doc, RecordSink& sink) override {
        matrix_.parse(doc, kKey, sink);
    }
    bool whole_without_newline() const override { return true; }

  private:
    CountMatrix matrix_;
};
}  // namespace

FormatEntry sglang_json_format() {
    return {"sglang-json", "SGLang expert distribution {\"logical_count\": ...} (totals)", 350,
            make_parser<SglangJsonParser>};
}

}  // namespace moe
