// One stream's parsers: the format forced by --format, or every registered format asked in
// priority order, line by line. Detection is per line, so a stream may mix formats (NDJSON
// lines inside a server log, say); a forced format gets every non-blank line.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "parsers/format.hpp"
#include "parsers/format_registry.hpp"
#include "parsers/record_sink.hpp"

namespace moe {

class LineParser {
  public:
    // Throws std::invalid_argument if `format` is not "auto" nor in `formats`.
    explicit LineParser(Format format = Format::auto_detect,
                        const FormatRegistry& formats = FormatRegistry::builtin());

    // One line, without its newline.
    void parse(std::string_view line, RecordSink& sink);
    // Whether multi-line documents should be framed for this stream, and where they go.
    bool reads_documents() const { return !document_readers_.empty(); }
    void parse_document(std::string_view doc, RecordSink& sink);
    Format format() const { return format_; }
    // Whether the format that read the last line may carry the strided-view defect
    // (FormatEntry::strided_rows).
    bool strided_rows() const { return strided_rows_; }
    // Whether `line` (the stream's last, without a newline) is whole for the format that
    // would read it (FormatParser::whole_without_newline).
    bool whole_without_newline(std::string_view line) const;

    // Forget the state that spans lines (the stream restarted).
    void reset();
    // That state, per format by name (formats without state write nothing). restore()
    // resets first, so a format absent from the checkpoint starts clean; entries of formats
    // this stream does not use are ignored.
    void save(StateWriter& w) const;
    bool restore(StateReader& r);
    // One format's saved state (what its save() wrote); false if unreadable.
    bool restore_format(std::string_view name, std::string_view state);

  private:
    struct Active {
        std::string_view name;
        std::unique_ptr<FormatParser> parser;
        bool strided_rows = false;
    };
    bool strided_rows_ = false;
    Format format_;
    std::vector<Active> active_;                   // priority order; one when forced
    std::vector<FormatParser*> document_readers_;  // those that read documents, same order
    // Under auto: per first byte of the trimmed line, the formats that may claim it
    // (FormatParser::may_claim), in priority order.
    std::array<std::vector<const Active*>, 256> by_first_;
    const std::vector<const Active*>& candidates(std::string_view trimmed) const {
        return by_first_[static_cast<unsigned char>(trimmed.front())];
    }
};

}  // namespace moe
