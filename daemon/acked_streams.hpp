// Acknowledged streams (docs/OPERATIONS.md "Acknowledged streams", docs/ARCHITECTURE.md): a client
// that opens with a hello line (daemon/stream_hello.hpp) numbers its lines from 1; each line is
// counted once (a resent line already counted is dropped), the number of the last line counted is
// committed with the counts it produced (Store::save, table `streams`), and after each commit the
// client is told it, so it can forget those lines. A stream outlives its connections: its parser
// state and numbers go on across reconnects, and across restarts through the database. While
// commits fail, acknowledged streams are not read (backpressure: the clients keep what is
// unacknowledged), plain streams are.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/stream_hello.hpp"
#include "ingest/stream_ingest.hpp"
#include "storage/store.hpp"

namespace moe {

// What a connection offers its stream.
class AckLink {
  public:
    virtual void send(std::string line) = 0;  // a reply line, newline included
    virtual void resume() = 0;                // reading may go on again
    virtual void taken_over() = 0;            // a newer connection of the stream: close
  protected:
    ~AckLink() = default;
};

class AckedStream {
  public:
    AckedStream(std::string id, uint64_t seq, std::string state)
        : id_(std::move(id)), committed_(seq), counted_(seq), state_(std::move(state)) {}

    // The received bytes of the attached connection: lines already counted are dropped,
    // the others fed to the stream's ingest.
    void feed(std::string_view bytes);
    // Its records are of another model than the database's (StreamIngest::refused()).
    bool refused() const { return ingest_ && ingest_->refused(); }
    const std::string& id() const { return id_; }
    uint64_t counted() const { return counted_; }
    uint64_t committed() const { return committed_; }

  private:
    friend class AckedStreams;
    // The number of the last line whose records are all counted: an open multi-line
    // document is not (a restart re-reads it whole).
    uint64_t settled_seq() const;
    void detach();

    std::string id_;
    std::string source_;                    // the listener it came through last
    uint64_t committed_ = 0;                // as of the last commit
    uint64_t counted_ = 0;                  // lines fed (complete)
    uint64_t drop_ = 0;                     // resent lines still to drop
    std::unique_ptr<StreamIngest> ingest_;  // while attached
    uint64_t fed_ = 0;                      // bytes fed since the ingest started
    uint64_t doc_at_ = UINT64_MAX;          // where an open document starts (bytes fed)...
    uint64_t doc_seq_ = 0;                  // ... and the number of the line before it
    std::string state_;                     // the ingest's checkpoint while detached
    AckLink* link_ = nullptr;
    bool dirty_ = false;     // counted or state changed since the last position taken
    bool ack_held_ = false;  // an ack not sent while resent lines were still to drop
};

class AckedStreams {
  public:
    static constexpr size_t kMaxStreams = 10000;

    AckedStreams(Aggregates& agg, const std::vector<StreamPosition>& stored);

    // A hello on a connection of the listener counted in `stats`: the stream (created if new)
    // is attached to `link`, a connection it was attached to is told taken_over(), and
    // `reply` is the answer {"type":"ack","stream":ID,"seq":committed,"next":N}. nullptr (and
    // `reply` the reason) when kMaxStreams streams are known.
    AckedStream* attach(const Hello& hello, AckLink& link, SourceStats& stats, Format format,
                        size_t max_line, std::string& reply);
    // The connection closed: its partial line and an open document are dropped (the client
    // resends them); the stream keeps its state for the next connection.
    void detach(AckedStream* stream, AckLink& link);

    // Backpressure: while true, attached connections do not read; wait() registers one to be
    // resumed when a commit succeeds.
    bool paused() const { return paused_; }
    void wait(AckLink& link);

    // Before a commit, in the loop turn that takes the aggregates' changes: the positions
    // of the streams that moved.
    std::vector<StreamPosition> take_positions();
    // After it: each attached client is told its stream's committed line; or, when the
    // commit failed, the positions are taken again next time and reading pauses.
    void committed(const std::vector<StreamPosition>& positions);
    void failed(const std::vector<StreamPosition>& positions);

    size_t size() const { return streams_.size(); }
    const AckedStream* find(const std::string& id) const;

  private:
    Aggregates& agg_;
    std::map<std::string, std::unique_ptr<AckedStream>> streams_;
    bool paused_ = false;
    std::vector<AckLink*> waiting_;
};

}  // namespace moe
