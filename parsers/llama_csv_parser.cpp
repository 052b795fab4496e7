#include "parsers/llama_csv_parser.hpp"

#include "parsers/number_scan.hpp"
#include "parsers/simd_selection.hpp"

namespace moe {

namespace {
constexpr std::string_view kHeader = "layer_id,expert_ids";
constexpr std::string_view kGatePrefix = "gate_input,";

bool is_blank(std::string_view line) {
    return scan::skip_spaces(line.data(), line.data() + line.size()) == line.data() + line.size();
}

// "12,..." (or "-1,...": a selection line with a bad layer, still a selection line).
bool selection_like(std::string_view line) {
    return !line.empty() && (scan::is_digit(line.front()) ||
                             (line.size() > 1 && line[0] == '-' && scan::is_digit(line[1])));
}

void reject_or_skip(std::string_view line, RecordSink& sink, RejectReason why) {
    sink.on_reject(scan::has_control_bytes(line) ? RejectReason::binary : why, line);
}
}  // namespace

FormatEntry llama_csv_format() {
    FormatEntry e{"llama-csv", "patched llama-server moe_expert_selection.log", 200,
                  make_parser<LlamaCsvParser>};
    e.strided_rows = true;
    return e;
}

bool LlamaCsvParser::claims(std::string_view line) const {
    return selection_like(line) || line.starts_with(kGatePrefix) || line.starts_with(kHeader);
}

void LlamaCsvParser::parse(std::string_view line, RecordSink& sink) {
    if (selection_like(line)) {
        parse_selection(line, sink);
    } else if (line.starts_with(kGatePrefix)) {
        parse_gate(line, sink);
    } else if (line.starts_with(kHeader)) {
        sink.on_skip(SkipKind::header, line);
    } else if (is_blank(line)) {
        sink.on_skip(SkipKind::blank, line);
    } else {
        skip_unrecognized(line, sink);
    }
}

SelectionScan scan_selection_scalar(std::string_view line, TopKIds ids) {
    const auto malformed = [&] {
        return SelectionScan::reject(scan::has_control_bytes(line) ? RejectReason::binary
                                                                   : RejectReason::malformed);
    };
    const char* p = line.data();
    const char* end = p + line.size();
    int64_t layer;
    if (!scan::parse_int(p, end, layer) || p == end || *p != ',') return malformed();
    ++p;
    // Small unsigned ids separated by spaces, into a fixed array (no vector bookkeeping).
    size_t n = 0;
    bool out_of_range = false;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t'))
            ++p;
        if (p == end) break;
        const bool negative = *p == '-';
        if (negative && ++p == end) return malformed();
        unsigned d = static_cast<unsigned char>(*p) - static_cast<unsigned>('0');
        if (d > 9) return malformed();
        uint32_t id = d;
        for (++p; p < end && (d = static_cast<unsigned char>(*p) - static_cast<unsigned>('0')) <= 9;
             ++p)
            id = id > static_cast<uint32_t>(kMaxExpert) ? id
                                                        : id * 10 + d;  // saturates: no overflow
        if (p < end && *p != ' ' && *p != '\t') return malformed();
        // Too many ids is malformed without the binary check of the bytes further on.
        if (n == kMaxTopK) return SelectionScan::reject(RejectReason::malformed);
        out_of_range |= negative || id > static_cast<uint32_t>(kMaxExpert);
        ids[n++] = static_cast<int32_t>(id);
    }
    if (n == 0) return SelectionScan::reject(RejectReason::malformed);
    if (out_of_range) return SelectionScan::reject(RejectReason::expert_out_of_range);
    if (layer < 0 || layer > kMaxLayer)
        return SelectionScan::reject(RejectReason::layer_out_of_range);
    return {true, RejectReason::malformed, static_cast<int32_t>(layer), n};
}

SelectionScan scan_selection(std::string_view line, TopKIds ids) {
    static_assert(kMaxTopK >= simd::kSelectionMaxBytes / 2, "a fast-path line fits in ids");
    simd::SelectionFields f;
    if (!simd::scan_selection(line.data(), line.size(), ids.data(), f))
        return scan_selection_scalar(line, ids);
    // The scalar reference's order of rejects, for the lines the fast path reads.
    if (f.max_id > static_cast<uint32_t>(kMaxExpert))
        return SelectionScan::reject(RejectReason::expert_out_of_range);
    if (f.layer > kMaxLayer) return SelectionScan::reject(RejectReason::layer_out_of_range);
    return {true, RejectReason::malformed, f.layer, f.n};
}

// The hot path of the whole CSV input.
void LlamaCsvParser::parse_selection(std::string_view line, RecordSink& sink) {
    const SelectionScan s = scan_selection(line, ids_);
    if (!s.ok) return sink.on_reject(s.why, line);
    RoutingRecord r;
    r.layer = s.layer;
    r.experts = std::span<const int32_t>(ids_.data(), s.n);
    sink.on_routing(r);
}

void LlamaCsvParser::parse_gate(std::string_view line, RecordSink& sink) {
    const char* p = line.data() + kGatePrefix.size();
    const char* end = line.data() + line.size();
    int64_t layer, token;
    if (!scan::parse_int(p, end, layer) || p == end || *p++ != ',' ||
        !scan::parse_int(p, end, token) || p == end || *p++ != ',') {
        return reject_or_skip(line, sink, RejectReason::malformed);
    }
    switch (scan::parse_float_list(p, end, values_)) {
        case scan::FloatListStatus::malformed:
            return reject_or_skip(line, sink, RejectReason::malformed);
        case scan::FloatListStatus::non_finite:
            return sink.on_reject(RejectReason::non_finite, line);
        case scan::FloatListStatus::ok:
            break;
    }
    if (values_.empty()) return sink.on_reject(RejectReason::malformed, line);
    if (layer < 0 || layer > kMaxLayer)
        return sink.on_reject(RejectReason::layer_out_of_range, line);
    GateRecord g;
    g.layer = static_cast<int32_t>(layer);
    g.token = token;
    g.values = values_;
    sink.on_gate(g);
}

}  // namespace moe
