#include "parsers/line_parser.hpp"

namespace moe {

void LineParser::parse(std::string_view line, RecordSink& sink) {
    switch (format_) {
        case Format::auto_detect:
        case Format::llama_csv:
            return csv_.parse(line, sink);
        case Format::ndjson:
        case Format::eval_callback:
            return csv_.parse(line, sink);
    }
}

}  // namespace moe
