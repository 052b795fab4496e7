// docs/ARCHITECTURE.md "Adding a recorder", followed by the letter: a toy recorder (its
// format and its file layout) written as its own file would be and added to a copy of the
// format registry, nothing else, decides which files of a directory are read.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "cli/input_files.hpp"
#include "ingest/stream_ingest.hpp"
#include "parsers/format_registry.hpp"
#include "parsers/number_scan.hpp"
#include "byte_builder.hpp"
#include "temp_dir.hpp"

using namespace moe;
using moe::test::write_file;

namespace {

// What parsers/toyrec_parser.cpp would hold:
// Each run rewrites run{N}.toyrec with everything so far ("toyrec LAYER EXPERT..." lines), so
// only the highest N is read; a MANIFEST beside them marks the directory, whose other files
// are not data.

class ToyrecParser final : public FormatParser {
  public:
    bool claims(std::string_view line) const override { return line.starts_with("toyrec "); }
    void parse(std::string_view line, RecordSink& sink) override {
        if (!claims(line)) return skip_unrecognized(line, sink);
        const char* end = line.data() + line.size();
        ids_.clear();
        for (const char* p = line.data() + 7; (p = scan::skip_spaces(p, end)) < end;) {
            int64_t v;
            if (!scan::parse_int(p, end, v)) return sink.on_reject(RejectReason::malformed, line);
            ids_.push_back(static_cast<int32_t>(v));
        }
        if (ids_.size() < 2) return sink.on_reject(RejectReason::malformed, line);
        RoutingRecord r;
        r.layer = ids_[0];
        r.experts = std::span<const int32_t>(ids_).subspan(1);
        sink.on_routing(r);
    }

  private:
    std::vector<int32_t> ids_;
};

long run_number(const std::string& path) {
    static const std::regex name(R"(run(\d+)\.toyrec)");
    std::smatch m;
    const std::string base = std::filesystem::path(path).filename().string();
    return std::regex_match(base, m, name) ? std::stol(m[1]) : -1;
}

std::vector<bool> toyrec_directory(std::span<const std::string> paths) {
    const bool marked = std::any_of(paths.begin(), paths.end(), [](const std::string& p) {
        return std::filesystem::path(p).filename() == "MANIFEST";
    });
    std::vector<bool> keep(paths.size(), true);
    for (size_t i = 0; marked && i < paths.size(); ++i)
        keep[i] = run_number(paths[i]) >= 0;
    return keep;
}

std::vector<bool> toyrec_latest(std::span<const std::string> paths) {
    long last = -1;
    for (const std::string& p : paths)
        last = std::max(last, run_number(p));
    std::vector<bool> keep(paths.size(), true);
    for (size_t i = 0; i < paths.size(); ++i)
        keep[i] = run_number(paths[i]) < 0 || run_number(paths[i]) == last;
    return keep;
}

FormatEntry toyrec_format() {
    FormatEntry e{"toyrec", "the test's toy recorder", 60, make_parser<ToyrecParser>};
    e.directory_files = toyrec_directory;
    e.input_files = toyrec_latest;
    return e;
}

}  // namespace

TEST_CASE("a recorder's file layout is one format file plus one registry line") {
    const FormatRegistry reg = FormatRegistry::builtin().with(toyrec_format());
    moe::test::TempDir dir;
    write_file(dir.file("MANIFEST"), "toy recorder\n");
    write_file(dir.file("notes.txt"), "toyrec 9 9 9\n");  // beside the data: not read
    write_file(dir.file("run1.toyrec"), "toyrec 0 1 2\n");
    write_file(dir.file("run2.toyrec"), "toyrec 0 1 2\ntoyrec 1 0 3\n");
    const std::vector<AnalyzeInput> given{{dir.path().string(), "t"}};

    SECTION("the directory is its latest run file") {
        const auto files = expand_inputs(given, reg);
        REQUIRE(files.size() == 1);
        CHECK(files[0].path == dir.file("run2.toyrec"));
        CHECK(files[0].tag == "t");

        Aggregates agg;
        SourceStats stats;
        StreamIngest in(agg, stats, Format::auto_detect, LineSplitter::kDefaultMaxLine, reg);
        std::ifstream f(files[0].path);
        std::stringstream text;
        text << f.rdbuf();
        in.feed(text.str());
        in.finish();
        CHECK(stats.records == 2);
        CHECK(agg.tag(kAllTag).layer(1)->hits == std::vector<uint64_t>{1, 0, 0, 1});
    }
    SECTION("superseded runs are left out across arguments too") {
        const auto files = expand_inputs({{dir.file("run1.toyrec"), ""}, given[0]}, reg);
        REQUIRE(files.size() == 1);
        CHECK(files[0].path == dir.file("run2.toyrec"));
    }
    SECTION("without the entry, every file is read") {
        CHECK(expand_inputs(given).size() == 4);
    }
}
