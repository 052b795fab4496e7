// Frames multi-line JSON documents (a pretty-printed router-pipeline file) out of lines, as
// LineSplitter frames lines out of bytes: a line that is just "{" or "[" (spaces aside)
// opens a document, a line that is just "}" or "]" closes it. The lines in between are
// kept, newline-joined, up to a size cap; a document over the cap is reported once and
// dropped up to its closing line. Which formats read documents is the parsers' business
// (FormatParser::reads_documents); this only finds where documents start and end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parsers/number_scan.hpp"
#include "parsers/record.hpp"

namespace moe {

class DocumentFramer {
  public:
    static constexpr size_t kDefaultMaxBytes = 512u << 20;
    static constexpr size_t kSampleBytes = kRejectSampleBytes;  // what a reject shows

    explicit DocumentFramer(size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

    static bool opens(std::string_view line) {
        const std::string_view t = scan::trim(line);
        return t == "{" || t == "[";
    }
    static bool closes(std::string_view line) { return line == "}" || line == "]"; }

    bool open() const { return open_; }
    // Stream offset of the opening line: where a restart must re-read from.
    uint64_t start() const { return start_; }

    void begin(std::string_view line, uint64_t offset) {
        open_ = true;
        too_large_ = false;
        start_ = offset;
        doc_.assign(line);
        doc_ += '\n';
    }

    // Adds a line of the open document (`terminated`: it ended with a newline; json.dump()
    // writes none after the closing brace). Calls on_too_large(first bytes) once when the cap
    // is crossed, and on_document(text) when a closing line completes a document in bounds.
    template <class OnDocument, class OnTooLarge>
    void add(std::string_view line, bool terminated, OnDocument&& on_document,
             OnTooLarge&& on_too_large) {
        if (!too_large_) {
            if (doc_.size() + line.size() + 1 > max_bytes_) {
                too_large_ = true;
                on_too_large(std::string_view(doc_).substr(0, kSampleBytes));
                doc_.clear();
            } else {
                doc_.append(line);
                if (terminated) doc_ += '\n';
            }
        }
        if (!closes(line)) return;
        open_ = false;
        if (!too_large_ && !doc_.empty()) on_document(std::string_view(doc_));
        doc_.clear();
    }

    // The stream ended inside a document: calls on_partial(first bytes) unless it was
    // already reported as too large.
    template <class OnPartial>
    void abandon(OnPartial&& on_partial) {
        if (open_ && !too_large_ && !doc_.empty())
            on_partial(std::string_view(doc_).substr(0, kSampleBytes));
        reset();
    }

    void reset() {
        open_ = false;
        doc_.clear();
    }

  private:
    size_t max_bytes_;
    bool open_ = false;
    bool too_large_ = false;
    uint64_t start_ = 0;
    std::string doc_;
};

}  // namespace moe
