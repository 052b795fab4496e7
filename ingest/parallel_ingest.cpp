#include "ingest/parallel_ingest.hpp"

#include <cstring>
#include <future>
#include <memory>
#include <vector>

#include "ingest/stream_ingest.hpp"

namespace moe {

namespace {

// cli/input_reader.cpp reads plain files 4 MiB at a time; feeding each chunk cut at the
// same absolute offsets keeps what StreamIngest sees at the end of a feed() identical.
constexpr size_t kReadBytes = 4u << 20;

// One chunk after the first: its own aggregates, counters and stream state.
struct Part {
    uint64_t begin = 0, end = 0;
    Aggregates agg;
    SourceStats stats;
    StreamIngest ingest;
    uint64_t consumed = 0;  // before finish() (the last part only)

    Part(uint64_t b, uint64_t e, const AnalyticsOptions& o, const SourceStats& source,
         Format format, size_t max_line)
        : begin(b), end(e), agg(o), stats(with_tag(source)), ingest(agg, stats, format, max_line) {
        ingest.reset(begin);  // offsets count from the file's start (no BOM strip mid-file)
        ingest.count_new_top_k_at_once();
    }
    static SourceStats with_tag(const SourceStats& source) {
        SourceStats s;
        s.tag = source.tag;
        return s;
    }
};

void feed_range(StreamIngest& ingest, std::string_view bytes, uint64_t begin, uint64_t end,
                const ReadDone& done) {
    for (uint64_t at = begin; at < end;) {
        const uint64_t next = std::min<uint64_t>(end, (at / kReadBytes + 1) * kReadBytes);
        ingest.feed(bytes.substr(at, next - at));
        if (done) done(at, next - at);
        at = next;
    }
}

// Chunk starts: 0, then the byte after the first newline at or after each i/n of the size.
std::vector<uint64_t> cut(std::string_view bytes, unsigned n) {
    std::vector<uint64_t> starts{0};
    for (unsigned i = 1; i < n; ++i) {
        const uint64_t target = std::max<uint64_t>(starts.back(), bytes.size() * i / n);
        if (target >= bytes.size()) break;
        const void* nl = std::memchr(bytes.data() + target, '\n', bytes.size() - target);
        if (!nl) break;
        const auto start = static_cast<uint64_t>(static_cast<const char*>(nl) - bytes.data()) + 1;
        if (start >= bytes.size()) break;
        if (start > starts.back()) starts.push_back(start);
    }
    return starts;
}

// Whether `p`, read from a fresh state, counted exactly what one pass would have, given
// that what came before it was appended to `agg` and ended at a clean boundary.
bool independent(const Part& p, const Aggregates& agg, const IdenticalRuns& before) {
    const AnalyticsOptions& o = agg.options();
    const ModelFacts configured = ModelFacts::configured(o);
    // Its layers' first records were counted at once: one pass would have held them on
    // probation unless their k was known or in use before the chunk.
    const TagStats& all = p.agg.tag(kAllTag);
    for (int32_t l : all.layer_ids())
        if (!agg.top_k_known(l) && !agg.top_k_in_use(all.layer(l)->top_k)) return false;
    return p.ingest.probation_holds() == 0 && p.stats.meta_records == 0 &&
           p.stats.rejects[static_cast<size_t>(RejectReason::invalid_meta)] == 0 &&
           agg.facts().top_k == configured.top_k &&  // no meta record stated what it lacks
           agg.num_experts_stated() == configured.num_experts_stated &&
           !(o.gates && p.stats.gate_records > 0) &&  // gate pairs span chunks
           !before.continued_by(p.ingest.identical_runs());
}

}  // namespace

bool parallel_ingest_possible(const AnalyticsOptions& o) {
    return !o.checks && !o.exclude_identical_runs && o.caches.empty();
}

ParallelIngestResult ingest_parallel(std::string_view bytes, Aggregates& agg, SourceStats& s,
                                     Format format, size_t max_line, unsigned threads,
                                     const ReadDone& done) {
    const std::vector<uint64_t> starts = cut(bytes, std::max(1u, threads));
    const size_t n = starts.size();
    const auto end_of = [&](size_t i) { return i + 1 < n ? starts[i + 1] : bytes.size(); };

    std::vector<std::unique_ptr<Part>> parts(n);
    std::vector<std::future<void>> running;
    for (size_t i = 1; i < n; ++i) {
        parts[i] = std::make_unique<Part>(starts[i], end_of(i), agg.options(), s, format, max_line);
        running.push_back(std::async(std::launch::async, [&, i] {
            Part& p = *parts[i];
            feed_range(p.ingest, bytes, p.begin, p.end, done);
            if (i + 1 == n) {
                p.consumed = p.ingest.consumed();
                p.ingest.finish();
            }
        }));
    }
    StreamIngest first(agg, s, format, max_line);
    feed_range(first, bytes, 0, end_of(0), done);
    for (auto& r : running)
        r.get();  // rethrows a part's exception

    ParallelIngestResult result{n, 0};
    IdenticalRuns last = first.identical_runs();
    size_t i = 1;
    bool clean = first.at_clean_boundary();
    for (; i < n && clean; ++i) {
        Part& p = *parts[i];
        const bool last_part = i + 1 == n;
        if (!independent(p, agg, last) || !(last_part || p.ingest.at_clean_boundary())) break;
        if (agg.append(p.agg)) break;  // refused: nothing changed
        s.append(p.stats);
        last.advance(p.ingest.identical_runs());
        ++result.appended;
    }
    if (i == n && n > 1) {
        s.offset = parts[n - 1]->consumed;
        agg.pad_to_num_experts();
        return result;
    }
    // Sequential from where the kept chunks end: the first chunk's own stream, or a new
    // one carrying the last kept chunk's state (clean: only what its checkpoint holds).
    std::unique_ptr<StreamIngest> resumed;
    StreamIngest* rest = &first;
    if (i > 1) {
        resumed = std::make_unique<StreamIngest>(agg, s, format, max_line);
        resumed->reset(starts[i]);
        resumed->restore(parts[i - 1]->ingest.checkpoint());
        rest = resumed.get();
    }
    feed_range(*rest, bytes, n > 1 ? starts[i] : bytes.size(), bytes.size(), done);
    s.offset = rest->consumed();
    rest->finish();
    return result;
}

}  // namespace moe
