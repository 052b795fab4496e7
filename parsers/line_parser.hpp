// Turns one line into records, in a forced format or by looking at the line itself
// (auto-detection is per line, so a file may mix formats, e.g. NDJSON in a text log).
#pragma once

#include <string_view>

#include "parsers/format.hpp"
#include "parsers/llama_csv_parser.hpp"
#include "parsers/record_sink.hpp"

namespace moe {

class LineParser {
  public:
    explicit LineParser(Format format = Format::auto_detect) : format_(format) {}

    void parse(std::string_view line, RecordSink& sink);
    Format format() const { return format_; }

  private:
    Format format_;
    LlamaCsvParser csv_;
};

}  // namespace moe
