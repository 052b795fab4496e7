// A count matrix in any JSON object, named by its key (--format counts-json --counts-key KEY):
//   {"KEY": [[...], ...], ...}         [layers][experts] (or [steps][layers][experts], summed)
//   {"KEY": {"0": [...], "7": [...]}}  rows by layer id
// for research dumps such as fiddler's expert_popularity files or per-domain counts exported
// to JSON. --counts-tokens-key names a field with the token count: when every layer's
// selections are the same whole multiple k of it, k is the top-k. Counts only:
// docs/ARCHITECTURE.md "Count-only sources". Without a key it claims nothing.
#include "parsers/count_matrix.hpp"
#include "parsers/format_parser.hpp"

namespace moe {

namespace {
class CountsJsonParser final : public FormatParser {
  public:
    explicit CountsJsonParser(const FormatSettings& s)
        : key_(s.counts_key), tokens_key_(s.counts_tokens_key) {}
    bool claims(std::string_view text) const override {
        return !key_.empty() && opens_object_with(text, key_);
    }
    bool may_claim(unsigned char c) const override {
        return !key_.empty() && (c == '{' || c == '\r' || c == '\n');
    }
    void parse(std::string_view line, RecordSink& sink) override {
        if (!claims(line)) return skip_unrecognized(line, sink);
        matrix_.parse(line, key_, sink, tokens_key_);
    }
    bool reads_documents() const override { return true; }
    void parse_document(std::string_view doc, RecordSink& sink) override {
        matrix_.parse(doc, key_, sink, tokens_key_);
    }
    bool whole_without_newline() const override { return true; }

  private:
    std::string key_, tokens_key_;
    CountMatrix matrix_;
};
}  // namespace

FormatEntry counts_json_format() {
    return {"counts-json",
            "a [layers][experts] count table at --counts-key in a JSON object (totals)", 330,
            make_parser<CountsJsonParser>};
}

}  // namespace moe
