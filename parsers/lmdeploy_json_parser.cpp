// lmdeploy's expert distribution dump (LMDEPLOY_DUMP_EXPERT_DISTRIBUTION;
// lmdeploy/pytorch/.../experts_distribution_recorder.py): rank{r}_step{s}_experts_counts.json,
// json.dump(indent=2) of a [moe layers][experts] list of counts since the start, already
// summed over ranks (all_reduce before the dump). Row i is the i-th MoE layer. Of the dumps
// given, only the last step's is read (input_files below).
#include <filesystem>
#include <optional>
#include <regex>

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

struct Dump {
    long long rank, step;
};

std::optional<Dump> dump_of(const std::string& path) {
    static const std::regex name(R"(rank(\d+)_step(\d+)_experts_counts\.json)");
    std::smatch m;
    const std::string base = std::filesystem::path(path).filename().string();
    if (!std::regex_match(base, m, name)) return std::nullopt;
    return Dump{std::stoll(m[1]), std::stoll(m[2])};
}

// Each dump holds the counts since the start, summed over ranks: the last step's (its lowest
// rank) holds everything, and reading the others too would count them again.
std::vector<bool> last_dump_only(std::span<const std::string> paths) {
    std::optional<Dump> last;
    for (const std::string& p : paths)
        if (auto d = dump_of(p);
            d && (!last || d->step > last->step || (d->step == last->step && d->rank < last->rank)))
            last = d;
    std::vector<bool> keep(paths.size(), true);
    for (size_t i = 0; last && i < paths.size(); ++i)
        if (const auto d = dump_of(paths[i]))
            keep[i] = d->step == last->step && d->rank == last->rank;
    return keep;
}
}  // namespace

FormatEntry lmdeploy_json_format() {
    FormatEntry e{"lmdeploy-json",
                  "lmdeploy rank*_step*_experts_counts.json [layers][experts] (totals)", 340,
                  make_parser<LmdeployJsonParser>};
    e.input_files = last_dump_only;
    return e;
}

}  // namespace moe
