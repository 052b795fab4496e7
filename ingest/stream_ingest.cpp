#include "ingest/stream_ingest.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace moe {

namespace {

// The largest id of a record: for every record, so top-8 (the usual k) takes one SSE max
// tree instead of a loop (BENCHMARKS.md "Data-quality policy").
int32_t max_id(std::span<const int32_t> ids) {
#if defined(__SSE4_1__)
    if (ids.size() == 8) {
        __m128i m =
            _mm_max_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ids.data())),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(ids.data() + 4)));
        m = _mm_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
        m = _mm_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
        return _mm_cvtsi128_si32(m);
    }
#endif
    int32_t top = -1;
    for (int32_t e : ids)
        top = std::max(top, e);
    return top;
}

}  // namespace

StreamIngest::StreamIngest(Aggregates& agg, SourceStats& stats, Format format, size_t max_line,
                           const FormatRegistry& formats)
    : agg_(agg),
      stats_(stats),
      source_tag_(agg.tag_id(stats.tag)),
      splitter_(max_line),
      parser_(format, formats),
      records_at_reset_(stats.records) {}

// flatten: line() and the splitter inlined into the loop over a read's lines.
[[gnu::flatten]] void StreamIngest::feed(std::string_view bytes) {
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

void StreamIngest::line(std::string_view text) {
    if (refused_) return;
    ++stats_.lines;
    // A UTF-8 byte order mark at the start of a stream belongs to no record.
    if (splitter_.consumed() == 0 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    current_line_ = text;
    if (documents_.open()) return document_line(text, true);
    if (parser_.reads_documents() && DocumentFramer::opens(text))
        return documents_.begin(text, splitter_.consumed());  // the start of this line
    parser_.parse(text, *this);
}

void StreamIngest::read_file(const FormatEntry& format, const std::string& path, uint64_t size) {
    stats_.bytes += size;
    stats_.dirty = true;
    ++stats_.lines;  // the file is one document
    current_line_ = {};
    format.read_file(path, *this);
}

void StreamIngest::document_line(std::string_view text, bool terminated) {
    documents_.add(
        text, terminated,
        [this](std::string_view doc) {
            current_line_ = doc.substr(0, DocumentFramer::kSampleBytes);
            parser_.parse_document(doc, *this);
        },
        [this](std::string_view sample) {
            stats_.add_reject(RejectReason::line_too_long, sample);
        });
}

void StreamIngest::after_feed() {
    // json.dump() writes no newline after the closing brace: accept it as the end.
    if (documents_.open() && DocumentFramer::closes(splitter_.pending())) {
        ++stats_.lines;
        document_line(splitter_.pending(), false);
        splitter_.take_pending();
    }
}

void StreamIngest::finish() {
    release_held();
    if (documents_.open()) {  // one partial_line for the whole unfinished document
        documents_.abandon([this](std::string_view sample) {
            current_line_ = sample;
            stats_.add_reject(RejectReason::partial_line, sample);
        });
    } else if (splitter_.pending_bytes() > 0 && !splitter_.discarding() &&
               parser_.whole_without_newline(splitter_.pending())) {
        ++stats_.lines;  // a recorder's json.dump() file: whole, though without a newline
        current_line_ = splitter_.pending();
        parser_.parse(current_line_, *this);
    } else if (splitter_.pending_bytes() > 0 && !splitter_.discarding()) {  // not reported twice
        stats_.add_reject(RejectReason::partial_line, splitter_.pending());
        stats_.dirty = true;
    }
    splitter_.reset(splitter_.consumed());
}

bool StreamIngest::at_clean_boundary() const {
    if (!probation_.empty() || documents_.open() || splitter_.pending_bytes() > 0 ||
        identical_.holding() || policy_.holding())
        return false;
    StateWriter mine, fresh;
    parser_.save(mine);
    LineParser(parser_.format()).save(fresh);
    return mine.take() == fresh.take();
}

void StreamIngest::reset(uint64_t offset) {
    release_held();  // what was read of the old stream counts
    splitter_.reset(offset);
    documents_.reset();
    new_stream();
    parser_.reset();
    refused_ = false;
    seq_at_reset_ = routing_seq_;
    records_at_reset_ = stats_.records;
}

void StreamIngest::resume(const Carry& c) {
    strided_ = c.strided;
    gates_ = c.gates;
    identical_ = c.identical;
    policy_ = c.policy;
    seen_experts_ = c.seen_experts;
}

// Nothing pairs or batches across a restart of the stream; its strided-view verdict is
// reached again.
void StreamIngest::new_stream() {
    gates_.new_stream();
    strided_.new_stream();
    positions_.new_stream();
    if (policy_.decide_now()) settle_strided();
    policy_.new_stream();
}

TagId StreamIngest::resolve_tag(std::string_view record_tag) {
    if (record_tag.empty()) return source_tag_;
    if (record_tag != last_tag_) {
        last_tag_ = record_tag;
        last_tag_id_ = agg_.record_tag_id(record_tag);
    }
    return last_tag_id_;
}

// flatten: route, count_or_hold and count inlined into the per-record path (about 100
// instructions a record of calls and spills; BENCHMARKS.md
// "Counting-side speedups and every target in one run").
[[gnu::flatten]] void StreamIngest::on_routing(const RoutingRecord& r) {
    // Validated before its tag is looked up: a rejected record creates no tag.
    if (auto why = agg_.check_routing(r, arrival_)) return facts_reject(*why, &r, nullptr, nullptr);
    ++routing_seq_;
    // Its place in the stream, before any data-quality check holds or leaves out a record:
    // what aligns two runs is the engine's order, not what moescope counted. Written onto
    // the record only where it is kept or observed (hold, count): a copy here would cost
    // every record.
    positions_.add(r.layer);
    // Held records have not taught the aggregates their ids yet: E seen by this stream.
    seen_experts_ = std::max(seen_experts_, static_cast<uint32_t>(max_id(r.experts) + 1));
    const int verdict =
        strided_.add(r.layer, r.experts, std::max(agg_.num_experts(), seen_experts_));
    if (verdict >= 0) [[unlikely]] {
        ++stats_.batches_checked;
        stats_.batches_strided += static_cast<uint64_t>(verdict);
    }
    if (policy_.verdict() == StridedPolicy::Verdict::undecided && !agg_.options().keep_suspect &&
        ((verdict >= 0 &&
          policy_.checked(verdict == 1, strided_.batch_experts(), r.experts.size())) ||
         (strided_.repeats_within_ranking() && policy_.repeated())))
        settle_strided();
    else if (policy_.verdict() == StridedPolicy::Verdict::defective &&
             strided_.repeats_within_ranking())  // a repeat proves it whatever E grows to
        policy_.contradicted();
    // The strided-view policy (ingest/strided_policy.hpp): rows after a batch's first are
    // left out once the stream is proven defective; if the format may carry the defect,
    // every record from such a row on waits for the verdict. --keep-suspect leaves the
    // policy out (the warnings still come from the check's counts).
    if (!agg_.options().keep_suspect) {
        const bool later = strided_.row() > 1;
        if (later) policy_.saw_later_row();
        if (policy_.holding() || (later && parser_.strided_rows() &&
                                  policy_.verdict() == StridedPolicy::Verdict::undecided)) {
            policy_.hold(hold(r, arrival_, current_line_), later);
            if (policy_.held_count() >= StridedPolicy::kMaxHeld && policy_.decide_now())
                settle_strided();
            return;
        }
        if (later && policy_.verdict() == StridedPolicy::Verdict::defective)
            return leave_out(r, Suspect::strided_view);
    }
    route(r, arrival_, current_line_, true);
    if (!probation_.empty()) settle_probation(false);
}

void StreamIngest::settle_strided() {
    const bool defective = policy_.verdict() == StridedPolicy::Verdict::defective;
    if (defective) ++stats_.strided_streams;
    for (const StridedPolicy::Held& h : policy_.take_held()) {
        if (defective && h.later_row)
            leave_out(h.record.view(), Suspect::strided_view);
        else
            route(h.record.view(), h.record.arrival, h.record.sample, false);
    }
}

void StreamIngest::leave_out(const RoutingRecord& r, Suspect why) {
    agg_.leave_out(resolve_tag(r.tag), r, why);
    ++stats_.excluded(why);
    stats_.dirty = true;
}

void StreamIngest::route(const RoutingRecord& r, double arrival, std::string_view line,
                         bool fresh) {
    const uint64_t run = identical_.observe(r);
    if (run == IdenticalRuns::kMinRun) {
        ++stats_.identical_runs;
        stats_.identical_records += run;
    } else if (run > IdenticalRuns::kMinRun) {
        ++stats_.identical_records;
    }
    if (agg_.options().keep_suspect) return count_or_hold(r, arrival, line, fresh);
    if (run == 1) {  // the previous run of this layer ended short: its records count
        if (identical_.holding()) {
            const std::vector<HeldRecord> done = identical_.take_held(r.layer);
            for (const HeldRecord& h : done)
                count_or_hold(h.view(), h.arrival, h.sample);
            fresh = fresh && done.empty();
        }
        return count_or_hold(r, arrival, line, fresh);
    }
    if (run < IdenticalRuns::kMinRun) return identical_.hold(r.layer, hold(r, arrival, line));
    // The run reached kMinRun: every record of it after the first is left out.
    for (const HeldRecord& h : identical_.take_held(r.layer))
        leave_out(h.view(), Suspect::identical_run);
    leave_out(r, Suspect::identical_run);
}

void StreamIngest::count_or_hold(const RoutingRecord& r, double arrival, std::string_view line,
                                 bool fresh) {
    // A new layer whose k another layer already has is counted at once; only a layer
    // that would start with a k no layer has waits (ingest/topk_probation.hpp).
    if (probation_.holds(r.layer) ||
        (hold_new_top_k_ && !agg_.top_k_known(r.layer) && !agg_.top_k_in_use(r.experts.size())))
        return ++probation_holds_, probation_.add(hold(r, arrival, line), routing_seq_);
    count(r, arrival, line, fresh);
}

void StreamIngest::count(const RoutingRecord& r, double arrival, std::string_view line,
                         bool fresh) {
    if (!fresh)
        if (auto why = agg_.check_routing(r, arrival)) return on_reject(*why, line);
    const TagId tag = resolve_tag(r.tag);
    // A routing tap (moescoped --affinity, --diff) follows tokens, as an observer does: it
    // gets the record's place too, the copy only then.
    std::optional<RoutingRecord> with_place;
    if (r.pass < 0 && agg_.tapped()) [[unlikely]]
        with_place = placed(r);
    if (auto why = agg_.add_checked(tag, with_place ? *with_place : r, arrival))
        return on_reject(*why, line);
    ++stats_.records;
    if (observer_) observe(tag, r);
    stats_.dirty = true;
}

// A record fresh from its parser has no place yet: it is the one on_routing just placed.
// A held record got its place when it was held.
[[gnu::noinline]] HeldRecord StreamIngest::hold(const RoutingRecord& r, double arrival,
                                                std::string_view line) const {
    HeldRecord h = HeldRecord::of(r, arrival, line);
    if (r.pass < 0) {
        h.pass = positions_.pass();
        h.row = positions_.row();
    }
    return h;
}

// In counting order (decisions/routing_sequence.hpp), which a data-quality hold may make
// differ from log order across layers (a layer's own records keep theirs).
[[gnu::noinline]] void StreamIngest::observe(TagId tag, const RoutingRecord& r) const {
    observer_(tag, r.pass >= 0 ? r : placed(r));
}

RoutingRecord StreamIngest::placed(const RoutingRecord& r) const {
    RoutingRecord p = r;
    p.pass = positions_.pass();
    p.row = positions_.row();
    return p;
}

void StreamIngest::settle_probation(bool all) {
    probation_.settle(routing_seq_, all, [this](HeldRecord&& h, bool keep) {
        if (keep) return count_held(std::move(h));
        on_reject(RejectReason::topk_changed, h.sample);
    });
}

void StreamIngest::release_held() {
    if (policy_.decide_now()) settle_strided();
    for (HeldRecord& h : identical_.release_all())
        count_or_hold(h.view(), h.arrival, h.sample);
    settle_probation(true);
}

void StreamIngest::on_gate(const GateRecord& g) {
    if (auto why = agg_.check_gate(g)) return reject_record(*why, nullptr, nullptr, nullptr, &g);
    ++stats_.gate_records;
    if (agg_.options().gates) gates_.add(resolve_tag(g.tag), g, agg_);
}

void StreamIngest::on_meta(const MetaRecord& m) {
    if (auto why = agg_.apply_meta(m)) return facts_reject(*why, nullptr, nullptr, &m);
    ++stats_.meta_records;
}

void StreamIngest::on_counts(const CountRecord& c) {
    if (c.snapshot && agg_.options().refuse_engine_totals) [[unlikely]]
        return reject_record(RejectReason::engine_totals, nullptr, &c, nullptr);
    // Validated before its tag is looked up, as routing records are.
    if (auto why = agg_.check_counts(c)) return facts_reject(*why, nullptr, &c, nullptr);
    if (auto why = agg_.add_counts(resolve_tag(c.tag), c))
        return reject_record(*why, nullptr, &c, nullptr);
    ++stats_.records;  // one record of engine totals (one layer's vector, one CSV row)
    stats_.dirty = true;
}

// Cold: only rejected records come here.
[[gnu::cold, gnu::noinline]] void StreamIngest::facts_reject(RejectReason why,
                                                             const RoutingRecord* r,
                                                             const CountRecord* c,
                                                             const MetaRecord* m) {
    const bool facts =
        why == RejectReason::topk_changed || why == RejectReason::expert_out_of_range;
    const bool first =
        routing_seq_ == seq_at_reset_ && (c == nullptr || stats_.records == records_at_reset_);
    if (!refuse_other_model_ || !facts || !first) return reject_record(why, r, c, m);
    const ModelFacts& f = agg_.facts();
    const auto layer_k = [&](int32_t l) -> uint32_t {
        const LayerStats* s = agg_.tag(kAllTag).layer(l);
        return f.top_k ? f.top_k : s ? s->top_k : 0;
    };
    std::string ours, theirs;
    if (r && why == RejectReason::topk_changed) {
        ours = "records of layer " + std::to_string(r->layer) + " select " +
               std::to_string(r->experts.size()) + " experts";
        theirs = "top-k " + std::to_string(layer_k(r->layer));
    } else if (r && f.num_experts_stated &&
               *std::min_element(r->experts.begin(), r->experts.end()) >= 0) {
        ours = "records name expert " +
               std::to_string(*std::max_element(r->experts.begin(), r->experts.end()));
        theirs = std::to_string(f.num_experts) + " experts";
    } else if (c && f.num_experts_stated && c->first_expert >= 0) {
        ours = "totals of layer " + std::to_string(c->layer) + " name " +
               std::to_string(c->first_expert + static_cast<int64_t>(c->counts.size())) +
               " experts";
        theirs = std::to_string(f.num_experts) + " experts";
    } else if (m && why == RejectReason::topk_changed) {
        ours = "a meta record states top-k " + std::to_string(m->top_k);
        theirs = "top-k " + std::to_string(f.top_k);
    } else if (m) {
        ours = "a meta record states " + std::to_string(m->num_experts) + " experts";
        theirs = std::to_string(f.num_experts) + " experts";
    } else {
        return reject_record(why, r, c, m);  // a negative id: a bad record, not a model
    }
    refused_ = true;
    on_reject(RejectReason::other_model, "stream refused: its " + ours + ", " +
                                             other_model_holder_ + " has " + theirs + " (" +
                                             other_model_hint_ + ")");
}

[[gnu::cold, gnu::noinline]] void StreamIngest::reject_record(RejectReason why,
                                                              const RoutingRecord* r,
                                                              const CountRecord* c,
                                                              const MetaRecord* m,
                                                              const GateRecord* g) {
    // The line is the sample, unless it is longer than a sample (a JSON document of a whole
    // table): its first bytes would name neither the layer nor the record.
    const bool described = r || c || m || g;
    if (!current_line_.empty() && (current_line_.size() <= SourceStats::kSampleBytes || !described))
        return on_reject(why, current_line_);
    const auto n = [](auto x) { return std::to_string(x); };
    std::string said;
    if (r)
        said =
            "a record of layer " + n(r->layer) + " selecting " + n(r->experts.size()) + " experts";
    else if (c) {
        said = "totals of layer " + n(c->layer) + " for experts " + n(c->first_expert) + "-" +
               n(c->first_expert + static_cast<int64_t>(c->counts.size()) - 1);
        // The first count that is no count of selections: which expert, what value.
        for (size_t i = 0; i < c->counts.size(); ++i) {
            const double x = c->counts[i];
            if (is_selection_count(x)) continue;
            char v[32];
            std::snprintf(v, sizeof v, "%.6g", x);
            said += ": expert " + n(c->first_expert + static_cast<int64_t>(i)) + " has " + v +
                    (x < 0                ? " (negative)"
                     : !std::isfinite(x)  ? ""
                     : x != std::floor(x) ? " (not a whole count)"
                                          : " (beyond 2^53, not counted exactly)");
            break;
        }
    } else if (m)
        said = "a meta record states " + n(m->num_experts) + " experts, top-k " + n(m->top_k);
    else if (g)
        said = "a gate vector of layer " + n(g->layer) + " with " + n(g->values.size()) + " values";
    on_reject(why, said);
}

uint64_t StreamIngest::finish_reading() {
    const uint64_t at = consumed(), end = splitter_.consumed() + splitter_.pending_bytes();
    const auto cut = [&] {
        return stats_.rejects[static_cast<size_t>(RejectReason::partial_line)];
    };
    const uint64_t before = cut();
    finish();
    return cut() == before ? end : at;
}

void StreamIngest::on_reject(RejectReason why, std::string_view line) {
    stats_.add_reject(why, line);
}

void StreamIngest::on_skip(SkipKind kind, std::string_view line) {
    if (kind == SkipKind::header) new_stream();  // llama-server rewrites it on start
    stats_.add_skip(kind, line);
}

}  // namespace moe
