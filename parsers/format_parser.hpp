// The one interface every input format implements, and the registry entry that names it.
// A format decodes framed text (a line, or a multi-line document) into records; framing
// (parsers/line_splitter.hpp, parsers/document_framer.hpp) and validation (analytics) are
// not its business. See docs/ARCHITECTURE.md "The pipeline" and "Adding an input format"
// (the recipe).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "parsers/format.hpp"

#include "parsers/record_sink.hpp"
#include "parsers/state_codec.hpp"

namespace moe {

class FormatParser {
  public:
    virtual ~FormatParser() = default;

    // Auto-detection: true if this non-blank line is this format's. Formats are asked in
    // priority order and the first claim wins; a claim may depend on state (an eval-callback
    // "Token" line only counts after a "Layer" header).
    virtual bool claims(std::string_view line) const = 0;
    // Whether claims() can be true, in any state, for a line whose first byte after
    // scan::trim is `first`: auto-detection asks only these formats (LineParser). False
    // only where it is certain; the default asks every line.
    virtual bool may_claim(unsigned char first) const { return (void)first, true; }
    // Decodes one non-blank line (no newline): records, rejects or skips to the sink. Under
    // --format every non-blank line comes here, claimed or not (see skip_unrecognized).
    virtual void parse(std::string_view line, RecordSink& sink) = 0;

    // Multi-line documents (a line that is just "{" or "[" opens one): formats that read
    // them say so; under auto-detection a document goes to the first such format in
    // priority order that claims it (else to the first such format).
    virtual bool reads_documents() const { return false; }
    virtual void parse_document(std::string_view doc, RecordSink& sink) {
        sink.on_reject(RejectReason::malformed, reject_sample(doc));
    }

    // Whether a last line without a newline is nonetheless whole: a recorder's JSON file
    // written by json.dump() (no final newline) rather than a line still being written.
    virtual bool whole_without_newline() const { return false; }

    // State that spans lines: forgotten when the stream restarts, saved with a checkpoint.
    // save() writes nothing when there is no state; restore() reads what save() wrote and
    // returns false if it cannot.
    virtual void reset() {}
    virtual void save(StateWriter&) const {}
    virtual bool restore(StateReader& r) { return r.ok(); }
};

// A recorder's file layout: of the file paths given, which ones hold its data (one flag per
// path, true: read it). Pure name logic; FormatEntry::directory_files and input_files.
using FileSelection = std::vector<bool> (*)(std::span<const std::string> paths);

// A registry row (parsers/format_registry.cpp): what --format and its help show, where the
// format stands in auto-detection, and how to make one parser per stream.
struct FormatEntry {
    std::string_view name;         // the --format value, also the checkpoint key
    std::string_view description;  // one line of help text (`moescope formats`)
    int priority = 0;              // auto-detection: higher is asked first
    std::unique_ptr<FormatParser> (*make)(const FormatSettings&) = nullptr;
    // Binary whole-file formats (GGUF, safetensors: docs/ARCHITECTURE.md "Count-only
    // sources") are read by path, not as lines: `claims_file` sees the path and the first
    // bytes (kHeadBytes or fewer), `read_file` delivers every record of the file; a file it
    // cannot read is one reject whose sample says why. Text formats leave both null.
    static constexpr size_t kHeadBytes = 64;
    bool (*claims_file)(std::string_view path, std::string_view head) = nullptr;
    void (*read_file)(const std::string& path, RecordSink& sink) = nullptr;
    // Written by the patched llama-server, whose multi-token batches may carry the
    // strided-view defect: their rows after the first wait for the stream's verdict
    // (ingest/strided_policy.hpp).
    bool strided_rows = false;
    // Recorders that write several files per run (docs/ARCHITECTURE.md "Adding a recorder"):
    // `directory_files` sees the files of one directory argument (sorted), `input_files`
    // every file to read once directories are expanded, and each drops the files that are
    // not data or are superseded. Null: every file is read.
    FileSelection directory_files = nullptr;
    FileSelection input_files = nullptr;
};

// A parser constructed from the settings if it reads any (counts-json's key), else by default.
template <class P>
std::unique_ptr<FormatParser> make_parser(const FormatSettings& s) {
    if constexpr (std::is_constructible_v<P, const FormatSettings&>)
        return std::make_unique<P>(s);
    else
        return (void)s, std::make_unique<P>();
}

// What a format does with a non-blank line it does not recognise: binary junk is rejected,
// any other text (ordinary log output) is skipped and counted, never fatal.
void skip_unrecognized(std::string_view line, RecordSink& sink);

}  // namespace moe
