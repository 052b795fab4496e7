// One input read by several threads with the result of one sequential StreamIngest
// (docs/ARCHITECTURE.md "Parallel ingest"): the bytes are cut into chunks on line
// boundaries; the first is read into the caller's Aggregates, each other one into a fresh
// Aggregates on its own thread; then, in order, each chunk is appended (ingest/chunk_chain.hpp:
// counts add, EMAs continue, state that spans the chunk start is reconciled) when one pass
// would have counted it alike, else the rest is read sequentially from there.
#pragma once

#include <functional>
#include <string_view>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "parsers/format.hpp"

namespace moe {

// The live cache simulation (state over the whole stream, per record) keeps ingest sequential.
bool parallel_ingest_possible(const AnalyticsOptions& o);

struct ParallelIngestResult {
    size_t chunks = 1;    // the input was cut into
    size_t appended = 0;  // chunks after the first read in parallel and kept
};

// Reads all of `bytes` (a whole input) as StreamIngest would, finish() included, with up
// to `threads` threads; sets s.offset as consumed() before finish(). Precondition:
// parallel_ingest_possible(agg.options()). `done(offset, length)` is told each range of
// `bytes` read (a mapped file drops those pages, so memory stays flat in the file's size).
using ReadDone = std::function<void(uint64_t offset, uint64_t length)>;
ParallelIngestResult ingest_parallel(std::string_view bytes, Aggregates& agg, SourceStats& s,
                                     Format format, size_t max_line, unsigned threads,
                                     const ReadDone& done = {});

}  // namespace moe
