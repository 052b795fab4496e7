// libFuzzer target: the whole pipeline a daemon source runs (chunking, per-line format
// detection, multi-line documents, validation, aggregates, gate pairing, checkpoints). The
// first byte picks the chunk size, so line and document boundaries fall everywhere.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/stream_ingest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t chunk = 1 + data[0] % 64;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    moe::Aggregates agg;
    moe::SourceStats stats;
    moe::StreamIngest ingest(agg, stats, moe::Format::auto_detect, 4096);
    std::string state;
    for (size_t i = 0; i < in.size(); i += chunk) {
        ingest.feed(in.substr(i, chunk));
        if (i % 7 == 0) state = ingest.checkpoint();
    }
    ingest.finish();
    moe::StreamIngest resumed(agg, stats, moe::Format::auto_detect, 4096);
    resumed.reset(0);
    resumed.restore(state);
    resumed.restore(in.substr(0, 64));  // garbage checkpoints are refused, not trusted
    agg.pad_to_num_experts();
    if (stats.records > stats.lines * 4096 + 65536)
        __builtin_trap();  // a line yields bounded records
    return 0;
}
