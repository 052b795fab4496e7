#include "daemon/acked_streams.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "analytics/wall_clock.hpp"

namespace moe {

void AckedStream::feed(std::string_view bytes) {
    while (drop_ > 0 && !bytes.empty()) {  // resent lines, counted before
        const size_t nl = bytes.find('\n');
        if (nl == std::string_view::npos) return;  // the rest of a dropped line
        bytes.remove_prefix(nl + 1);
        --drop_;
    }
    if (drop_ == 0 && ack_held_ && link_) {  // the resent lines are in: see committed()
        ack_held_ = false;
        link_->send(ack_line(id_, committed_));
    }
    if (bytes.empty() || !ingest_) return;
    const uint64_t start = fed_, seq_before = counted_;
    ingest_->set_arrival_time(wall_clock_seconds());
    ingest_->feed(bytes);
    fed_ += bytes.size();
    const auto lines = static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
    counted_ += lines;
    dirty_ = dirty_ || lines > 0;
    // A multi-line document opened in these bytes: the number of the line before it.
    const uint64_t at = ingest_->consumed();
    if (at < fed_ - ingest_->pending_bytes() && at != doc_at_ && at >= start) {
        doc_at_ = at;
        doc_seq_ = seq_before + static_cast<uint64_t>(
                                    std::count(bytes.begin(), bytes.begin() + (at - start), '\n'));
    }
}

uint64_t AckedStream::settled_seq() const {
    if (!ingest_) return counted_;
    return ingest_->consumed() < fed_ - ingest_->pending_bytes() ? doc_seq_ : counted_;
}

void AckedStream::detach() {
    if (ingest_) {
        ingest_->settle_pending();
        counted_ = settled_seq();  // an open document is read again when resent
        state_ = ingest_->checkpoint();
        ingest_.reset();
    }
    drop_ = fed_ = 0;
    ack_held_ = false;
    doc_at_ = UINT64_MAX;
    link_ = nullptr;
    dirty_ = true;
}

AckedStreams::AckedStreams(Aggregates& agg, const std::vector<StreamPosition>& stored) : agg_(agg) {
    for (const StreamPosition& p : stored) {
        auto s = std::make_unique<AckedStream>(p.stream, p.seq, p.state);
        s->source_ = p.source;
        streams_.emplace(p.stream, std::move(s));
    }
}

AckedStream* AckedStreams::attach(const Hello& hello, AckLink& link, SourceStats& stats,
                                  Format format, size_t max_line, std::string& reply) {
    auto it = streams_.find(hello.stream);
    if (it == streams_.end()) {
        if (streams_.size() >= kMaxStreams) {
            reply = "too many acknowledged streams (" + std::to_string(kMaxStreams) +
                    "): reuse a stream id";
            return nullptr;
        }
        it = streams_.emplace(hello.stream, std::make_unique<AckedStream>(hello.stream, 0, ""))
                 .first;
    }
    AckedStream& s = *it->second;
    if (AckLink* old = s.link_) {  // a reconnect before the old connection was seen to end
        std::erase(waiting_, old);
        s.detach();
        old->taken_over();
    }
    s.source_ = stats.name;
    s.ingest_ = std::make_unique<StreamIngest>(agg_, stats, format, max_line);
    s.ingest_->refuse_other_model();  // as every daemon source
    s.ingest_->reset(0);
    if (!s.state_.empty()) s.ingest_->restore(s.state_);  // pending gate vectors etc.
    s.link_ = &link;
    // The reply is an acknowledgement: a client may forget the lines up to its seq (the
    // bundled one does) and resend only what follows. So the stream resumes after the
    // committed line even when the hello's `next` is older (a kill -9 after a commit and
    // before its ack reached the client, or SIGTERM, whose last commit follows the closing
    // of the connections): expecting the resend from `next` dropped that many new lines as
    // resent ones, and a client with no more than that left never got an ack.
    const uint64_t next = std::max(hello.next.value_or(0), s.committed_ + 1);
    if (next > s.counted_ + 1) {
        spdlog::warn(
            "{}: stream {}: lines {} to {} never arrived (the client no longer has them); "
            "counting from line {}",
            stats.name, s.id_, s.counted_ + 1, next - 1, next);
        s.counted_ = next - 1;
        s.dirty_ = true;
    }
    s.drop_ = s.counted_ + 1 - next;
    s.ack_held_ = false;
    reply = ack_line(s.id_, s.committed_, next);
    return &s;
}

void AckedStreams::detach(AckedStream* stream, AckLink& link) {
    std::erase(waiting_, &link);
    if (stream != nullptr && stream->link_ == &link) stream->detach();
}

void AckedStreams::wait(AckLink& link) {
    if (std::find(waiting_.begin(), waiting_.end(), &link) == waiting_.end())
        waiting_.push_back(&link);
}

std::vector<StreamPosition> AckedStreams::take_positions() {
    std::vector<StreamPosition> out;
    for (auto& [id, s] : streams_) {
        if (s->ingest_) s->ingest_->settle_pending();  // held records count before their line
        if (!s->dirty_) continue;
        s->dirty_ = false;
        out.push_back(
            {id, s->source_, s->settled_seq(), s->ingest_ ? s->ingest_->checkpoint() : s->state_});
    }
    return out;
}

void AckedStreams::committed(const std::vector<StreamPosition>& positions) {
    if (paused_) spdlog::info("a commit succeeded: reading acknowledged streams again");
    paused_ = false;
    for (const StreamPosition& p : positions) {
        auto it = streams_.find(p.stream);
        if (it == streams_.end()) continue;
        AckedStream& s = *it->second;
        s.committed_ = std::max(s.committed_, p.seq);
        // While the client resends lines counted before (drop_), an ack beyond the hello's
        // seq could make it forget lines it has not resent yet, and the daemon would drop
        // new ones in their place: the ack waits until the resent lines are in (feed()).
        if (s.link_ && s.drop_ > 0)
            s.ack_held_ = true;
        else if (s.link_)
            s.link_->send(ack_line(s.id_, s.committed_));
    }
    for (AckLink* l : std::exchange(waiting_, {}))
        l->resume();
}

void AckedStreams::failed(const std::vector<StreamPosition>& positions) {
    if (!paused_)
        spdlog::warn(
            "commits fail: acknowledged streams are not read until one succeeds (their "
            "clients keep what is not acknowledged)");
    paused_ = true;
    for (const StreamPosition& p : positions)
        if (auto it = streams_.find(p.stream); it != streams_.end()) it->second->dirty_ = true;
}

const AckedStream* AckedStreams::find(const std::string& id) const {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
}

}  // namespace moe
