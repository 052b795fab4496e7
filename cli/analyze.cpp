#include "cli/analyze.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>

#include "cli/input_files.hpp"
#include "ingest/input_reader.hpp"
#include "ingest/parallel_ingest.hpp"
#include "ingest/stream_ingest.hpp"
#include "models/mapped_file.hpp"

namespace moe {

AnalyzeInput parse_input_spec(const std::string& spec) {
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos) return {spec, ""};
    return {spec.substr(0, eq), spec.substr(eq + 1)};
}

namespace {
// A plain regular file mapped whole for parallel ingest; none for anything else (stdin, a
// pipe, a compressed or empty file, an error the stream reader then reports itself).
std::optional<models::MappedFile> map_plain(const std::string& path) {
    std::error_code ec;
    if (path == "-" || !std::filesystem::is_regular_file(path, ec) ||
        std::filesystem::file_size(path, ec) == 0 || ec)
        return std::nullopt;
    try {
        models::MappedFile m(path);
        const std::string_view head(reinterpret_cast<const char*>(m.data()),
                                    std::min<size_t>(m.size(), 4));
        if (m.size() == 0 || compressed_magic(head)) return std::nullopt;
        return m;
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
}

bool regular_file(const std::string& path) {
    std::error_code ec;
    return path != "-" && std::filesystem::is_regular_file(path, ec);
}

// A binary recorder file is memory-mapped by path: through a pipe it cannot be read.
void refuse_whole_file_format(Format format, const std::string& path, std::string_view head) {
    if (const FormatEntry* e = FormatRegistry::builtin().whole_file_format(format, path, head))
        throw std::runtime_error(
            "cannot read " + (path == "-" ? std::string("standard input") : path) + ": " +
            std::string(e->name) + " files are read whole; give a regular file, not a pipe");
}
// import: the database holds the model; analyze: the files before this one.
void refuse_other_model(StreamIngest& ingest, bool into_database) {
    if (into_database)
        ingest.refuse_other_model();
    else
        ingest.refuse_other_model("the model of the files before it",
                                  "another model: analyze it apart");
}
}  // namespace

std::vector<SourceStats> analyze_files(const std::vector<AnalyzeInput>& given, Format format,
                                       Aggregates& agg, size_t max_line,
                                       const RecordObserver& observer, unsigned threads,
                                       bool into_database) {
    const bool parallel =
        threads > 1 && !observer && !into_database && parallel_ingest_possible(agg.options());
    const std::vector<AnalyzeInput> inputs = expand_inputs(given);
    std::vector<SourceStats> stats(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto& in = inputs[i];
        const bool is_stdin = in.path == "-";
        SourceStats& s = stats[i];
        s.name = is_stdin ? "stdin" : in.path;
        s.kind = is_stdin ? "stdin" : "file";
        s.tag = in.tag;
        if (const FormatEntry* whole = FormatRegistry::builtin().file_reader(format, in.path)) {
            StreamIngest ingest(agg, s, format, max_line);
            ingest.set_observer(observer);
            refuse_other_model(ingest, into_database);
            std::error_code ec;  // a binary recorder (GGUF, safetensors): read by path
            const auto size = std::filesystem::file_size(in.path, ec);
            s.offset = s.file_size = ec ? 0 : size;
            ingest.read_file(*whole, in.path, s.offset);
            continue;
        }
        // After the first file, one pass: a file of another model is refused at its first
        // record (refuse_other_model), before anything of it is counted.
        const bool first = agg.tag(kAllTag).layer_ids().empty();
        if (auto mapped = parallel && first ? map_plain(in.path) : std::nullopt) {
            ingest_parallel({reinterpret_cast<const char*>(mapped->data()), mapped->size()}, agg, s,
                            format, max_line, threads,
                            [&](uint64_t at, uint64_t n) { mapped->release(at, n); });
            s.file_size = s.bytes;
            continue;
        }
        InputReader reader(in.path);
        StreamIngest ingest(agg, s, format, max_line);
        ingest.set_observer(observer);
        refuse_other_model(ingest, into_database);
        // Not a regular file (a pipe, a FIFO, stdin): opened once, so its format is told from
        // the first bytes of this same stream.
        std::string_view chunk = reader.read();
        if (!regular_file(in.path)) {
            std::string head(chunk);
            while (!chunk.empty() && head.size() < FormatEntry::kHeadBytes)
                head.append(chunk = reader.read());
            refuse_whole_file_format(format, in.path, head);
            ingest.feed(head);
            chunk = chunk.empty() ? chunk : reader.read();
        }
        for (; !chunk.empty(); chunk = reader.read())
            ingest.feed(chunk);
        // A truncated compressed file: what was decompressed is counted, the cut line is a
        // partial_line, and the caller warns (truncated_input).
        s.truncated = reader.truncated();
        // Like the daemon, count only complete lines: a last line without "\n" may be a
        // write in progress, so it is reported (partial_line) instead of parsed.
        s.file_size = s.bytes;
        s.offset = ingest.finish_reading();
    }
    agg.pad_to_num_experts();
    return stats;
}

}  // namespace moe
