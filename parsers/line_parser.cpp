#include "parsers/line_parser.hpp"

#include "parsers/number_scan.hpp"

namespace moe {

void LineParser::other(std::string_view line, RecordSink& sink) {
    if (scan::trim(line).empty()) return sink.on_skip(SkipKind::blank, line);
    if (scan::has_control_bytes(line)) return sink.on_reject(RejectReason::binary, line);
    sink.on_skip(SkipKind::other, line);
}

void LineParser::parse(std::string_view line, RecordSink& sink) {
    switch (format_) {
        case Format::llama_csv:
            return csv_.parse(line, sink);
        case Format::ndjson: {
            const std::string_view t = scan::trim(line);
            if (t.empty()) return sink.on_skip(SkipKind::blank, line);
            return json_.parse(t, sink);
        }
        case Format::eval_callback:
            if (!eval_.parse(line, sink)) other(line, sink);
            return;
        case Format::auto_detect:
            break;
    }
    const std::string_view t = scan::trim(line);
    if (!t.empty() && t.front() == '{') return json_.parse(t, sink);
    if (LlamaCsvParser::claims(line)) return csv_.parse(line, sink);
    if (eval_.parse(line, sink)) return;
    other(line, sink);
}

}  // namespace moe
