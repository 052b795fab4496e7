// Turns one line into records, in a forced format or by looking at the line itself.
// Detection is per line, so a stream may mix formats (NDJSON lines inside a server log,
// say); a forced format treats every line as that format.
#pragma once

#include <string_view>

#include "parsers/eval_callback_parser.hpp"
#include "parsers/format.hpp"
#include "parsers/llama_csv_parser.hpp"
#include "parsers/ndjson_parser.hpp"
#include "parsers/record_sink.hpp"

namespace moe {

class LineParser {
  public:
    explicit LineParser(Format format = Format::auto_detect) : format_(format) {}

    void parse(std::string_view line, RecordSink& sink);
    // A whole JSON document (pretty-printed router-pipeline file).
    void parse_document(std::string_view doc, RecordSink& sink) { json_.parse_document(doc, sink); }
    Format format() const { return format_; }
    // Forget stream state (eval-callback's current layer) after a restart.
    void reset() { eval_.reset(); }
    // The only parser state that spans lines: eval-callback's current layer (checkpoints).
    int32_t eval_layer() const { return eval_.layer(); }
    void set_eval_layer(int32_t layer) { eval_.set_layer(layer); }

  private:
    void other(std::string_view line, RecordSink& sink);

    Format format_;
    LlamaCsvParser csv_;
    NdjsonParser json_;
    EvalCallbackParser eval_;
};

}  // namespace moe
