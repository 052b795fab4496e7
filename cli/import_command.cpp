// `moescope import FILE... --db DB [--tag T]`: an engine's recorder files (or any input
// `analyze` reads) counted into a database, so they can be queried, compared and merged like
// a daemon's. Directories stand for their files (cli/input_files.hpp). A file already
// imported into DB is refused: importing it again would count it twice.
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/analyze.hpp"
#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/input_check.hpp"
#include "cli/input_files.hpp"
#include "storage/store.hpp"
#include "storage/writer_lock.hpp"

namespace moe {

namespace {

// The absolute path a source row names a file by, so a second import of it is recognised.
std::string source_name(const std::string& path) {
    std::error_code ec;
    const auto abs = std::filesystem::absolute(path, ec);
    return ec ? path : abs.lexically_normal().string();
}

int import_files(const Query& x) {
    if (x.db.empty()) throw std::invalid_argument("import needs --db DB");
    const Format format = x.args.analysis.resolved_format();
    std::vector<AnalyzeInput> given;
    for (const std::string& f : x.args.files) {
        AnalyzeInput in = parse_input_spec(f);
        if (in.tag.empty()) in.tag = x.q.tag == kAllTagName ? std::string() : x.q.tag;
        given.push_back(std::move(in));
    }
    const std::vector<AnalyzeInput> read = expand_inputs(given, x.args.tag_from_name);
    std::vector<AnalyzeInput> inputs = read;
    for (AnalyzeInput& in : inputs)
        if (in.path != "-") in.path = source_name(in.path);

    Store store = Store::open_for_writing(x.db);
    // One writer per database: a running moescoped would overwrite these counts with its own.
    const UniqueFd lock =
        lock_writer_or_refuse(x.db, "import into another database and `moescope merge` them");
    Aggregates agg(x.args.analysis.resolved_analytics());
    store.load(agg);
    std::set<std::string> known;
    std::map<std::string, std::string> known_content;  // content id -> the source holding it
    for (const SourceStats& s : store.load_sources()) {
        known.insert(s.name);
        if (s.file_id.starts_with(kContentIdPrefix)) known_content.emplace(s.file_id, s.name);
    }
    const auto refuse = [&](const AnalyzeInput& in, const std::string& why) {
        throw std::invalid_argument("cannot import " + in.path + ": " + why +
                                    " (moescope sources --forget drops the source row, not its "
                                    "counts)");
    };
    std::vector<std::string> ids;
    for (const AnalyzeInput& in : inputs) {
        if (known.count(in.path)) refuse(in, x.db + " already counts it");
        // A pipe can be read once, by the import: its bytes are counted, not identified.
        std::error_code ec;
        ids.push_back(std::filesystem::is_regular_file(in.path, ec) ? content_id(in.path)
                                                                    : std::string());
        // The same bytes under another path (a copy, another node's file) count twice too.
        if (ids.back().empty()) continue;
        const auto [it, fresh] = known_content.emplace(ids.back(), in.path);
        if (!fresh) refuse(in, "the same content is already counted as " + it->second);
    }

    std::vector<SourceStats> sources =
        analyze_files(inputs, format, agg, x.args.analysis.max_line, {}, 1, true);
    for (const SourceStats& s : sources)
        if (const auto& why = s.reject_samples[static_cast<size_t>(RejectReason::other_model)];
            !why.empty())
            throw IncompatibleFacts("cannot import " + s.name + ": " + why.front());
    warn_unrecognised(given, read, sources, format);
    uint64_t records = 0;
    std::vector<SourceStats*> ptrs;
    for (size_t i = 0; i < sources.size(); ++i) {
        SourceStats& s = sources[i];
        s.file_id = ids[i];
        s.kind = "import";  // read once, to its end: not an ingest that can stall (sources)
        records += s.records;
        s.dirty = true;
        ptrs.push_back(&s);
    }
    if (records == 0)
        throw NoDataError("nothing to import: no records in " + std::to_string(inputs.size()) +
                          " file(s) (moescope analyze shows what was skipped or rejected)");
    store.save(agg, ptrs);
    std::printf("imported %zu file(s) (%llu records) into %s\n", inputs.size(),
                static_cast<unsigned long long>(records), x.db.c_str());
    return 0;
}

}  // namespace

extern const CommandSpec kImportCommand = {
    "import",
    "Count recorder files (SGLang, lmdeploy, llama.cpp moe-trace, any log) into --db",
    [](CLI::App& app, CommandArgs& a) {
        app.add_option("files", a.files, "Files or directories (FILE or FILE=TAG)")->required();
        CLI::Option* tag = app.add_option("--tag", a.q.tag, "Tag for files given without =TAG");
        flag::tag_from_name(app, a, "Options")->excludes(tag);
        a.analysis.add_to(app, "Analysis of the files");
    },
    kNoLoad,
    nullptr,
    nullptr,
    nullptr,
    import_files,
};

}  // namespace moe
