// lmdeploy's expert distribution dump (LMDEPLOY_DUMP_EXPERT_DISTRIBUTION;
// lmdeploy/pytorch/.../experts_distribution_recorder.py): rank{r}_step{s}_experts_counts.json,
// json.dump(indent=2) of a [moe layers][experts] list of counts since the start, already
// summed over ranks (all_reduce before the dump). Row i is the i-th MoE layer. Which files
// to read (the last step only) is the file list's business: cli/input_files.cpp.
#include "parsers/count_matrix.hpp"
#include "parsers/format_parser.hpp"

namespace moe {

namespace {
class LmdeployJsonParser final : public FormatParser {
  public:
    bool claims(std::string_view text) const override { return opens_array_of_arrays(text); }
    bool may_claim(unsigned char c) const override { return c == '[' || c == '\r' || c == '\n'; }
    void parse(std::string_view line, RecordSink& sink) override {
        if (!claims(line)) return skip_unrecognized(line, sink);
        matrix_.parse(line, {}, sink);
    }
    bool reads_documents() const override { return true; }
    void parse_document(std::string_view doc, RecordSink& sink) override {
        matrix_.parse(doc, {}, sink);
    }
    bool whole_without_newline() const override { return true; }

  private:
    CountMatrix matrix_;
};
}  // namespace

FormatEntry lmdeploy_json_format() {
    return {"lmdeploy-json", "lmdeploy rank*_step*_experts_counts.json [layers][experts] (totals)",
            340, make_parser<LmdeployJsonParser>};
}

}  // namespace moe
