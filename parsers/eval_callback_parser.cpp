#include "parsers/eval_callback_parser.hpp"

#include "parsers/number_scan.hpp"

namespace moe {

namespace {
constexpr std::string_view kLayer = "Layer ";
constexpr std::string_view kSelected = " - Selected Expert IDs";
constexpr std::string_view kToken = "Token ";

std::string_view trim_left(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    return s;
}

bool is_header(std::string_view line) {
    return line.starts_with(kLayer) && line.find(kSelected) != std::string_view::npos;
}
}  // namespace

FormatEntry eval_callback_format() {
    return {"eval-callback", "llama.cpp eval-callback \"Layer N - Selected Expert IDs\" text", 100,
            make_parser<EvalCallbackParser>};
}

bool EvalCallbackParser::claims(std::string_view line) const {
    return is_header(line) || (layer_ >= 0 && trim_left(line).starts_with(kToken));
}

void EvalCallbackParser::save(StateWriter& w) const {
    if (layer_ >= 0) w.put<int32_t>(layer_);
}

bool EvalCallbackParser::restore(StateReader& r) {
    const int32_t layer = r.get<int32_t>();
    layer_ = r.ok() && layer >= 0 && layer <= kMaxLayer ? layer : -1;
    return r.ok();
}

void EvalCallbackParser::parse(std::string_view line, RecordSink& sink) {
    if (is_header(line)) {
        const char* p = line.data() + kLayer.size();
        int64_t layer;
        if (!scan::parse_int(p, line.data() + line.size(), layer) || layer < 0 ||
            layer > kMaxLayer) {
            layer_ = -1;
            return sink.on_reject(RejectReason::layer_out_of_range, line);
        }
        layer_ = static_cast<int32_t>(layer);
        return sink.on_skip(SkipKind::context, line);
    }
    const std::string_view t = trim_left(line);
    if (layer_ < 0 || !t.starts_with(kToken)) return skip_unrecognized(line, sink);

    const char* p = t.data() + kToken.size();
    const char* end = t.data() + t.size();
    int64_t token;
    if (!scan::parse_int(p, end, token) || p == end || *p++ != ':') {
        return sink.on_reject(RejectReason::malformed, line);
    }
    p = scan::skip_spaces(p, end);
    if (p == end || *p++ != '[') {
        return sink.on_reject(RejectReason::malformed, line);
    }
    experts_.clear();
    for (;;) {
        p = scan::skip_spaces(p, end);
        int64_t id;
        if (!scan::parse_int(p, end, id)) break;
        experts_.push_back(id < 0            ? -1
                           : id > kMaxExpert ? kMaxExpert + 1
                                             : static_cast<int32_t>(id));
        p = scan::skip_spaces(p, end);
        if (p < end && *p == ',') ++p;
    }
    p = scan::skip_spaces(p, end);
    if (p == end || *p != ']' || experts_.empty() || experts_.size() > kMaxTopK ||
        scan::skip_spaces(p + 1, end) != end) {
        return sink.on_reject(RejectReason::malformed, line);
    }
    RoutingRecord r;
    r.layer = layer_;
    r.token = token;
    r.experts = experts_;
    sink.on_routing(r);
}

}  // namespace moe
