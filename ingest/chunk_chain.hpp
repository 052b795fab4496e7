// The chunks of one stream, each read from a fresh state (on its own thread), appended in
// order to one Aggregates as one sequential pass would have counted them (docs/
// ARCHITECTURE.md "Parallel ingest"). `moescope analyze --threads` and moescoped's backlog
// replay (daemon/backlog_replay.hpp) both cut their input into chunks and chain them here.
#pragma once

#include <cstdint>
#include <string>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "ingest/stream_ingest.hpp"

namespace moe {

// One chunk [begin, end) of a stream: its own aggregates, counters and stream state.
struct Chunk {
    uint64_t begin = 0, end = 0;
    Aggregates agg;
    SourceStats stats;
    StreamIngest ingest;

    // `tag`: the source's tag (records without one count under it); `assumed`: the
    // strided-view verdict taken to hold at `begin` (StreamIngest::begin_chunk).
    Chunk(uint64_t begin, uint64_t end, const AnalyticsOptions& o, const std::string& tag,
          Format format, size_t max_line, StridedPolicy::Verdict assumed);
    Chunk(const Chunk&) = delete;
    Chunk& operator=(const Chunk&) = delete;
};

class ChunkChain {
  public:
    // Continues `head`, the stream that read everything before the first chunk; it must be
    // at a clean boundary (StreamIngest::at_clean_boundary).
    explicit ChunkChain(const StreamIngest& head) : carry_(head.carry()) {}

    // Appends `c`, read from where the chain ends, to `agg` and `s`, if one pass would have
    // counted it alike. `ends_stream`: c.ingest was finished (the input's last chunk);
    // else it must end at a clean boundary. false: nothing changed, and one pass must read
    // the rest from c.begin on, continued with resume().
    bool append(const Chunk& c, Aggregates& agg, SourceStats& s, bool ends_stream);
    // `into`, just reset() to where the chain ends, continues as one pass would.
    void resume(StreamIngest& into) const { into.resume(carry_); }

  private:
    StreamIngest::Carry carry_;
};

}  // namespace moe
