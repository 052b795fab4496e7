#include "analytics/stream_ingest.hpp"

namespace moe {

StreamIngest::StreamIngest(Aggregates& agg, SourceStats& stats, Format format, size_t max_line)
    : agg_(agg),
      stats_(stats),
      source_tag_(agg.tag_id(stats.tag)),
      splitter_(max_line),
      parser_(format) {}

void StreamIngest::feed(std::string_view bytes) {
    stats_.bytes += bytes.size();
    stats_.dirty = true;
    splitter_.feed(
        bytes, [this](std::string_view l) { line(l); },
        [this](std::string_view sample) {
            ++stats_.lines;
            stats_.add_reject(RejectReason::line_too_long, sample);
        });
}

void StreamIngest::line(std::string_view text) {
    ++stats_.lines;
    current_line_ = text;
    parser_.parse(text, *this);
}

void StreamIngest::finish() {
    if (splitter_.pending_bytes() > 0) {
        stats_.add_reject(RejectReason::partial_line, splitter_.pending());
        stats_.dirty = true;
    }
    splitter_.reset(splitter_.consumed());
}

void StreamIngest::reset(uint64_t offset) {
    splitter_.reset(offset);
    gates_.new_stream();
}

TagId StreamIngest::resolve_tag(std::string_view record_tag) {
    if (record_tag.empty()) return source_tag_;
    if (record_tag != last_tag_) {
        last_tag_ = record_tag;
        last_tag_id_ = agg_.tag_id(record_tag);
    }
    return last_tag_id_;
}

void StreamIngest::on_routing(const RoutingRecord& r) {
    if (auto why = agg_.add_routing(resolve_tag(r.tag), r)) return on_reject(*why, current_line_);
    ++stats_.records;
}

void StreamIngest::on_gate(const GateRecord& g) {
    if (auto why = agg_.check_gate(g)) return on_reject(*why, current_line_);
    ++stats_.gate_records;
    gates_.add(resolve_tag(g.tag), g, agg_);
}

void StreamIngest::on_meta(const MetaRecord& m) {
    if (auto why = agg_.apply_meta(m)) return on_reject(*why, current_line_);
    ++stats_.meta_records;
}

void StreamIngest::on_reject(RejectReason why, std::string_view line) {
    stats_.add_reject(why, line);
}

void StreamIngest::on_skip(SkipKind kind, std::string_view line) {
    if (kind == SkipKind::header) gates_.new_stream();  // llama-server rewrites it on start
    stats_.add_skip(kind, line);
}

}  // namespace moe
