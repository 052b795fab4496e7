#include "ingest/parallel_ingest.hpp"

#include <cstring>
#include <future>
#include <memory>
#include <vector>

#include "ingest/batch_start.hpp"
#include "ingest/chunk_chain.hpp"

namespace moe {

namespace {

// ingest/input_reader.cpp reads plain files 4 MiB at a time; feeding each chunk cut at the
// same absolute offsets keeps what StreamIngest sees at the end of a feed() identical.
constexpr size_t kReadBytes = 4u << 20;

void feed_range(StreamIngest& ingest, std::string_view bytes, uint64_t begin, uint64_t end,
                const ReadDone& done) {
    for (uint64_t at = begin; at < end;) {
        const uint64_t next = std::min<uint64_t>(end, (at / kReadBytes + 1) * kReadBytes);
        ingest.feed(bytes.substr(at, next - at));
        if (done) done(at, next - at);
        at = next;
    }
}

// Chunk starts: 0, then the byte after the first newline at or after each i/n of the size,
// moved on to the next batch start when one is near (ingest/batch_start.hpp).
std::vector<uint64_t> cut(std::string_view bytes, unsigned n, Format format) {
    std::vector<uint64_t> starts{0};
    for (unsigned i = 1; i < n; ++i) {
        const uint64_t target = std::max<uint64_t>(starts.back(), bytes.size() * i / n);
        if (target >= bytes.size()) break;
        const void* nl = std::memchr(bytes.data() + target, '\n', bytes.size() - target);
        if (!nl) break;
        auto start = static_cast<uint64_t>(static_cast<const char*>(nl) - bytes.data()) + 1;
        if (const auto b = batch_start(bytes.substr(start, kBatchStartWindow), format)) start += *b;
        if (start >= bytes.size()) break;
        if (start > starts.back()) starts.push_back(start);
    }
    return starts;
}

}  // namespace

bool parallel_ingest_possible(const AnalyticsOptions& o) {
    return o.caches.empty();
}

ParallelIngestResult ingest_parallel(std::string_view bytes, Aggregates& agg, SourceStats& s,
                                     Format format, size_t max_line, unsigned threads,
                                     const ReadDone& done) {
    const std::vector<uint64_t> starts = cut(bytes, std::max(1u, threads), format);
    const size_t n = starts.size();
    const auto end_of = [&](size_t i) { return i + 1 < n ? starts[i + 1] : bytes.size(); };

    // The first chunk's first read decides the strided-view verdict of almost any log
    // (ingest/strided_policy.hpp); the other chunks assume it (ChunkChain checks it was so).
    StreamIngest first(agg, s, format, max_line);
    const uint64_t head = std::min<uint64_t>(end_of(0), kReadBytes);
    feed_range(first, bytes, 0, head, done);
    const StridedPolicy::Verdict assumed = first.strided_policy().verdict();

    std::vector<std::unique_ptr<Chunk>> chunks(n);
    std::vector<uint64_t> consumed(n);  // the last chunk's offset read up to
    std::vector<std::future<void>> running;
    for (size_t i = 1; i < n; ++i) {
        chunks[i] = std::make_unique<Chunk>(starts[i], end_of(i), agg.options(), s.tag, format,
                                            max_line, assumed);
        running.push_back(std::async(std::launch::async, [&, i] {
            Chunk& c = *chunks[i];
            feed_range(c.ingest, bytes, c.begin, c.end, done);
            if (i + 1 == n) consumed[i] = c.ingest.finish_reading();
        }));
    }
    feed_range(first, bytes, head, end_of(0), done);
    for (auto& r : running)
        r.get();  // rethrows a chunk's exception

    ParallelIngestResult result{n, 0};
    size_t i = 1;
    if (n > 1 && first.at_clean_boundary()) {
        ChunkChain chain(first);
        for (; i < n && chain.append(*chunks[i], agg, s, i + 1 == n); ++i)
            ++result.appended;
        if (i == n) {
            s.offset = consumed[n - 1];
            agg.pad_to_num_experts();
            return result;
        }
        if (i > 1) {  // one pass from where the kept chunks end, with what they carry
            first.reset(starts[i]);
            chain.resume(first);
        }
    }
    feed_range(first, bytes, n > 1 ? starts[i] : bytes.size(), bytes.size(), done);
    s.offset = first.finish_reading();
    return result;
}

}  // namespace moe
