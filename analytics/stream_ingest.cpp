#include "analytics/stream_ingest.hpp"

#include "parsers/number_scan.hpp"

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
    after_feed();
}

bool StreamIngest::json_allowed() const {
    return parser_.format() == Format::auto_detect || parser_.format() == Format::ndjson;
}

void StreamIngest::line(std::string_view text) {
    ++stats_.lines;
    current_line_ = text;
    if (in_document_) {
        if (!document_too_large_) {
            if (doc_.size() + text.size() + 1 > kMaxDocumentBytes) {
                document_too_large_ = true;
                stats_.add_reject(RejectReason::line_too_long, doc_.substr(0, 200));
                doc_.clear();
            } else {
                doc_.append(text);
                doc_ += '\n';
            }
        }
        if (text == "}" || text == "]") end_document(true);
        return;
    }
    if (json_allowed() && (scan::trim(text) == "{" || scan::trim(text) == "[")) {
        in_document_ = true;
        document_too_large_ = false;
        doc_start_ = splitter_.consumed();  // the start of this line
        doc_.assign(text);
        doc_ += '\n';
        return;
    }
    parser_.parse(text, *this);
}

void StreamIngest::after_feed() {
    // json.dump() writes no newline after the closing brace: accept it as the end.
    if (in_document_ && (splitter_.pending() == "}" || splitter_.pending() == "]")) {
        ++stats_.lines;
        if (!document_too_large_) doc_.append(splitter_.pending());
        splitter_.take_pending();
        end_document(true);
    }
}

void StreamIngest::end_document(bool complete) {
    in_document_ = false;
    if (document_too_large_ || doc_.empty()) return;
    current_line_ = std::string_view(doc_).substr(0, 200);
    if (complete)
        parser_.parse_document(doc_, *this);
    else
        stats_.add_reject(RejectReason::partial_line, current_line_);
    doc_.clear();
}

void StreamIngest::finish() {
    if (in_document_) {
        end_document(false);  // one partial_line for the whole unfinished document
    } else if (splitter_.pending_bytes() > 0 && !splitter_.discarding()) {  // not reported twice
        stats_.add_reject(RejectReason::partial_line, splitter_.pending());
        stats_.dirty = true;
    }
    splitter_.reset(splitter_.consumed());
}

void StreamIngest::reset(uint64_t offset) {
    splitter_.reset(offset);
    in_document_ = false;
    doc_.clear();
    gates_.new_stream();
    strided_.new_stream();
    parser_.reset();
}

TagId StreamIngest::resolve_tag(std::string_view record_tag) {
    if (record_tag.empty()) return source_tag_;
    if (record_tag != last_tag_) {
        last_tag_ = record_tag;
        last_tag_id_ = agg_.record_tag_id(record_tag);
    }
    return last_tag_id_;
}

void StreamIngest::on_routing(const RoutingRecord& r) {
    if (auto why = agg_.add_routing(resolve_tag(r.tag), r, arrival_))
        return on_reject(*why, current_line_);
    ++stats_.records;
    if (!agg_.options().checks) return;
    if (const int verdict = strided_.add(r.layer, r.experts, agg_.num_experts()); verdict >= 0) {
        ++stats_.batches_checked;
        stats_.batches_strided += static_cast<uint64_t>(verdict);
    }
}

void StreamIngest::on_gate(const GateRecord& g) {
    if (auto why = agg_.check_gate(g)) return on_reject(*why, current_line_);
    ++stats_.gate_records;
    if (agg_.options().gates) gates_.add(resolve_tag(g.tag), g, agg_);
}

void StreamIngest::on_meta(const MetaRecord& m) {
    if (auto why = agg_.apply_meta(m)) return on_reject(*why, current_line_);
    ++stats_.meta_records;
}

void StreamIngest::on_reject(RejectReason why, std::string_view line) {
    stats_.add_reject(why, line);
}

void StreamIngest::on_skip(SkipKind kind, std::string_view line) {
    if (kind == SkipKind::header) {  // llama-server rewrites it on start
        gates_.new_stream();
        strided_.new_stream();
    }
    stats_.add_skip(kind, line);
}

}  // namespace moe

namespace moe {

namespace {
constexpr uint32_t kCheckpointMagic = 0x3153534d;  // "MSS1"
}

std::string StreamIngest::checkpoint() const {
    StateWriter w;
    w.put<uint32_t>(kCheckpointMagic);
    w.put<int32_t>(parser_.eval_layer());
    strided_.save(w);
    gates_.save(w, agg_);
    return w.take();
}

bool StreamIngest::restore(std::string_view state) {
    if (state.empty()) return false;
    StateReader r(state);
    if (r.get<uint32_t>() != kCheckpointMagic) return false;
    parser_.set_eval_layer(r.get<int32_t>());
    const bool ok = strided_.restore(r) && gates_.restore(r, agg_) && r.at_end();
    if (!ok) {
        gates_.new_stream();
        strided_.new_stream();
        parser_.reset();
    }
    return ok;
}

}  // namespace moe
