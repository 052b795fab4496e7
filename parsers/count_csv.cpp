#include "parsers/count_csv.hpp"

#include "parsers/number_scan.hpp"

namespace moe {

namespace {
std::string_view strip_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}
}  // namespace

bool CountCsvParser::claims(std::string_view line) const {
    line = strip_cr(line);
    if (line == header_) return true;
    return active_ && !line.empty() && (scan::is_digit(line.front()) || line.front() == '-');
}

void CountCsvParser::parse(std::string_view raw, RecordSink& sink) {
    const std::string_view line = strip_cr(raw);
    if (line == header_) {
        active_ = true;
        return sink.on_skip(SkipKind::header, raw);
    }
    if (!claims(line)) return skip_unrecognized(raw, sink);
    const char* p = line.data();
    const char* end = p + line.size();
    int64_t layer = 0, expert = 0, count = 1;
    if (!scan::parse_int(p, end, layer) || p == end || *p++ != ',' ||
        !scan::parse_int(p, end, expert))
        return sink.on_reject(RejectReason::malformed, raw);
    if (with_count_ && (p == end || *p++ != ',' || !scan::parse_int(p, end, count)))
        return sink.on_reject(RejectReason::malformed, raw);
    if (p != end) return sink.on_reject(RejectReason::malformed, raw);
    if (layer < 0 || layer > kMaxLayer)
        return sink.on_reject(RejectReason::layer_out_of_range, raw);
    if (expert < 0 || expert > kMaxExpert)
        return sink.on_reject(RejectReason::expert_out_of_range, raw);
    if (count < 0) return sink.on_reject(RejectReason::malformed, raw);
    count_[0] = static_cast<double>(count);
    CountRecord c;
    c.layer = static_cast<int32_t>(layer);
    c.first_expert = static_cast<int32_t>(expert);
    c.counts = count_;
    c.snapshot = with_count_;  // SGLang's per-rank dump; a moe-trace row is one selection
    sink.on_counts(c);
}

void CountCsvParser::save(StateWriter& w) const {
    if (active_) w.put<uint8_t>(1);
}

bool CountCsvParser::restore(StateReader& r) {
    active_ = r.get<uint8_t>() == 1;
    return r.ok();
}

FormatEntry sglang_csv_format() {
    return {"sglang-csv", "SGLang expert_distribution_rank*.csv layer_id,expert_id,count (totals)",
            260, [](const FormatSettings&) {
                return std::unique_ptr<FormatParser>(
                    std::make_unique<CountCsvParser>("layer_id,expert_id,count", true));
            }};
}

FormatEntry moe_trace_csv_format() {
    return {"moe-trace-csv", "llama.cpp moe-trace CSV layer,expert, one row per selection (totals)",
            250, [](const FormatSettings&) {
                return std::unique_ptr<FormatParser>(
                    std::make_unique<CountCsvParser>("layer,expert", false));
            }};
}

}  // namespace moe
