// One source's byte stream into the aggregates: bytes -> lines (and multi-line documents) ->
// records -> validated counts (docs/ARCHITECTURE.md "The pipeline"). Used alike by `moescope
// analyze` and by every daemon source, so both give the same figures.
#pragma once

#include <cmath>
#include <functional>
#include <string_view>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "ingest/forward_position.hpp"
#include "ingest/gate_pairer.hpp"
#include "ingest/identical_runs.hpp"
#include "ingest/strided_batch_check.hpp"
#include "ingest/strided_policy.hpp"
#include "ingest/topk_probation.hpp"
#include "parsers/document_framer.hpp"
#include "parsers/line_parser.hpp"
#include "parsers/line_splitter.hpp"

namespace moe {

// Sees every routing record the aggregates accepted, with its resolved tag (the
// recorded sequence of decisions/routing_sequence.hpp).
using RecordObserver = std::function<void(TagId, const RoutingRecord&)>;

class StreamIngest : private RecordSink {
  public:
    // `formats`: where `format` (or, for "auto", every format) comes from.
    StreamIngest(Aggregates& agg, SourceStats& stats, Format format,
                 size_t max_line = LineSplitter::kDefaultMaxLine,
                 const FormatRegistry& formats = FormatRegistry::builtin());

    // Parses every complete line in `bytes`; a partial last line waits for the next call.
    void feed(std::string_view bytes);
    // The stream ended (connection closed, analyzed file done): a pending partial line is
    // counted as a partial_line reject, never parsed.
    void finish();
    // Offset just past the last complete line, counted from the last reset(); while a
    // multi-line JSON document is being read, the offset where that document starts (so a
    // restart re-reads the whole document, never half of it).
    uint64_t consumed() const {
        return documents_.open() ? documents_.start() : splitter_.consumed();
    }
    uint64_t pending_bytes() const { return splitter_.pending_bytes(); }
    // finish() for an input read to its end (FILE arguments): the offset read up to. That is
    // consumed() when the last line was cut (a partial_line), else the end of what was fed:
    // a JSON dump without a final newline (json.dump) is read whole, not waiting at 0.
    uint64_t finish_reading();
    // Starts over at `offset` (file truncated, rotated, or resumed after a restart).
    void reset(uint64_t offset);

    // Arrival time (seconds since the epoch) for records that carry no timestamp; the
    // daemon sets it before each read, `analyze` leaves it unknown.
    void set_arrival_time(double t) { arrival_ = t; }

    // State that spans lines (gate vectors waiting for their next layer, the parsers' state
    // such as eval-callback's current layer, the strided-batch check), as of consumed():
    // saved with the offset so a restart continues exactly where the committed offset left
    // off. Encoding: ingest/stream_checkpoint.cpp.
    std::string checkpoint() const;
    // Restores a checkpoint() after reset(offset); an unreadable one is ignored.
    bool restore(std::string_view state);

    void set_observer(RecordObserver o) { observer_ = std::move(o); }
    // Ingest into a database (the daemon's sources, `import`): a stream whose first record
    // contradicts the model facts counted so far (the expert count, a layer's top-k) is of
    // another model. It is refused there: one other_model reject names both, and the rest
    // of the stream is not read (until reset()), instead of a reject per record.
    // `holder` names what holds the model ("the database's model", "the files before it"),
    // `hint` what to do (both go into the reject's sample).
    void refuse_other_model(std::string holder = "the database's model",
                            std::string hint = "another model: give it another --db") {
        refuse_other_model_ = true;
        other_model_holder_ = std::move(holder);
        other_model_hint_ = std::move(hint);
    }
    bool refused() const { return refused_; }
    // Decides every layer still on top-k probation now (ingest/topk_probation.hpp): a
    // followed file does so before each commit, so a layer with a single record shows.
    void settle_pending() { settle_probation(true); }

    // A binary whole-file format's records (FormatEntry::read_file), `size` bytes of input.
    void read_file(const FormatEntry& format, const std::string& path, uint64_t size);
    // For parallel ingest (ingest/parallel_ingest.hpp): nothing spans the last line fed
    // except the identical-run check's last records (no record held, no document open,
    // the parsers' state as at the start); the records held on top-k probation so far; the
    // identical-run check.
    bool at_clean_boundary() const;
    uint64_t probation_holds() const { return probation_holds_; }
    // Makes this stream read a chunk after the first (ingest/chunk_chain.hpp), after
    // reset(begin): it counts a layer's first records at once instead of holding them on
    // probation (the chain checks that one pass would not have held them either: the k was
    // in use or known before the chunk), and the strided-batch check and the gate pairer
    // record how the chunk opens.
    // `assumed`: the strided-view verdict the stream is taken to have at the chunk's start
    // (what the input's first chunk decided; ingest/strided_policy.hpp).
    void begin_chunk(StridedPolicy::Verdict assumed) {
        hold_new_top_k_ = false;
        strided_.record_opening();
        gates_.record_opening();
        policy_.assume(assumed);
    }
    // What spans lines at a clean boundary, as one pass carries it into the next chunk.
    struct Carry {
        StridedBatchCheck strided;
        GatePairer gates;
        IdenticalRuns identical;
        StridedPolicy policy;
        uint32_t seen_experts = 0;
    };
    // Not carried: the forward position (records' pass and row). A chunk numbers passes
    // from its own start; only observers and routing taps read them, and both read in one
    // pass (the daemon replays a backlog on one thread when tapped).
    Carry carry() const { return {strided_, gates_, identical_, policy_, seen_experts_}; }
    // Continues, after reset(offset) at a clean boundary, with what one pass would carry.
    void resume(const Carry& c);
    const StridedBatchCheck& strided() const { return strided_; }
    const GatePairer& gates() const { return gates_; }
    const IdenticalRuns& identical_runs() const { return identical_; }
    const StridedPolicy& strided_policy() const { return policy_; }

    uint32_t seen_experts() const { return seen_experts_; }

    // Parses one complete line (no newline), as feed() does for each line it finds.
    void line(std::string_view text);

  private:
    void on_routing(const RoutingRecord& r) override;
    void on_gate(const GateRecord& g) override;
    void on_meta(const MetaRecord& m) override;
    void on_counts(const CountRecord& c) override;
    void on_reject(RejectReason why, std::string_view line) override;
    void on_skip(SkipKind kind, std::string_view line) override;
    // A record the model facts refused: the stream's refusal when it is its first record.
    void facts_reject(RejectReason why, const RoutingRecord* r, const CountRecord* c,
                      const MetaRecord* m);
    // A refused record's reject: its line as the sample, or what it stated when it has none
    // (a record of a binary file read whole), so that every reject says why.
    void reject_record(RejectReason why, const RoutingRecord* r, const CountRecord* c,
                       const MetaRecord* m, const GateRecord* g = nullptr);

    TagId resolve_tag(std::string_view record_tag);
    // After validation and the strided-view policy: the identical-run check, then top-k
    // probation, then counting. `fresh` as for count_or_hold.
    void route(const RoutingRecord& r, double arrival, std::string_view line, bool fresh);
    // The strided-view verdict was just reached: the held rows are counted or left out.
    void settle_strided();
    // A validated record a data-quality check proved wrong (analytics/quality.hpp).
    void leave_out(const RoutingRecord& r, Suspect why);
    // `fresh`: validated a moment ago, with nothing counted since, so not checked again. A
    // held record is checked when it is counted: what was counted meanwhile may reject it.
    void count_or_hold(const RoutingRecord& r, double arrival, std::string_view line,
                       bool fresh = false);
    void count(const RoutingRecord& r, double arrival, std::string_view line, bool fresh = false);
    void count_held(HeldRecord&& h) { count(h.view(), h.arrival, h.sample); }
    // A record copied to be decided later, with its place in the stream (pass, row).
    HeldRecord hold(const RoutingRecord& r, double arrival, std::string_view line) const;
    // The observer's call, with the record's place in the stream.
    void observe(TagId tag, const RoutingRecord& r) const;
    // A fresh record (the one on_routing just placed) with its place in the stream.
    RoutingRecord placed(const RoutingRecord& r) const;
    void settle_probation(bool all);
    void release_held();  // the stream ended: every held record is decided
    void document_line(std::string_view text, bool terminated);
    void after_feed();
    void new_stream();

    Aggregates& agg_;
    SourceStats& stats_;
    TagId source_tag_;
    std::string last_tag_;  // cache: records of one stream usually share a tag
    TagId last_tag_id_ = kAllTag;
    LineSplitter splitter_;
    DocumentFramer documents_;
    LineParser parser_;
    GatePairer gates_;
    StridedBatchCheck strided_;
    IdenticalRuns identical_;
    StridedPolicy policy_;
    ForwardPosition positions_;  // sets each record's pass and row
    TopKProbation probation_;
    uint64_t probation_holds_ = 0;
    bool hold_new_top_k_ = true;
    uint64_t routing_seq_ = 0;   // routing records seen by this stream (probation window)
    uint32_t seen_experts_ = 0;  // largest id + 1 of the records validated here
    std::string_view current_line_;
    double arrival_ = NAN;
    RecordObserver observer_;
    bool refuse_other_model_ = false, refused_ = false;
    std::string other_model_holder_, other_model_hint_;
    // When this stream (re)started: its routing records validated (routing_seq_), and the
    // source's records (a listener's connections share them).
    uint64_t seq_at_reset_ = 0, records_at_reset_ = 0;
};

}  // namespace moe
