#include "daemon/backlog_replay.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "analytics/wall_clock.hpp"
#include "ingest/batch_start.hpp"

namespace moe {

namespace {

constexpr size_t kReadBytes = 1u << 20;  // a chunk thread's pread size

ssize_t pread_full(int fd, char* buf, size_t n, uint64_t at) {
    for (;;) {
        const ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(at));
        if (got >= 0 || errno != EINTR) return got;
    }
}

// The offset just past the first '\n' in [from, limit), if any.
std::optional<uint64_t> line_start_after(int fd, uint64_t from, uint64_t limit) {
    std::vector<char> buf(64u << 10);
    for (uint64_t at = from; at < limit;) {
        const ssize_t got =
            pread_full(fd, buf.data(), std::min<uint64_t>(buf.size(), limit - at), at);
        if (got <= 0) return std::nullopt;
        if (const void* nl = std::memchr(buf.data(), '\n', static_cast<size_t>(got)))
            return at + static_cast<uint64_t>(static_cast<const char*>(nl) - buf.data()) + 1;
        at += static_cast<uint64_t>(got);
    }
    return std::nullopt;
}

// The offset just past the last '\n' in [floor, end), if any.
std::optional<uint64_t> line_start_before(int fd, uint64_t floor, uint64_t end) {
    std::vector<char> buf(64u << 10);
    while (end > floor) {
        const uint64_t at = end - std::min<uint64_t>(buf.size(), end - floor);
        const ssize_t got = pread_full(fd, buf.data(), end - at, at);
        if (got != static_cast<ssize_t>(end - at)) return std::nullopt;
        if (const void* nl = memrchr(buf.data(), '\n', end - at))
            return at + static_cast<uint64_t>(static_cast<const char*>(nl) - buf.data()) + 1;
        end = at;
    }
    return std::nullopt;
}

// How far past the line start `at` the next batch starts (ingest/batch_start.hpp); 0 when
// none is near.
uint64_t batch_start_at(int fd, uint64_t at, uint64_t end, Format format) {
    std::string window(std::min<uint64_t>(kBatchStartWindow, end - at), '\0');
    const ssize_t got = pread_full(fd, window.data(), window.size(), at);
    if (got <= 0) return 0;
    window.resize(static_cast<size_t>(got));
    return batch_start(window, format).value_or(0);
}

}  // namespace

std::unique_ptr<BacklogReplay> BacklogReplay::start(int fd, uint64_t from, uint64_t size,
                                                    const ReplayOptions& o, const Aggregates& agg,
                                                    const std::string& tag, Format format,
                                                    size_t max_line,
                                                    StridedPolicy::Verdict assumed) {
    if (o.threads < 2 || size <= from) return nullptr;
    const uint64_t total = std::min<uint64_t>(size - from, o.threads * o.chunk_bytes);
    // A line cut off by the end of the file may be a write in progress: the round ends at
    // the last complete line, and the follower reads on from there as always.
    const std::optional<uint64_t> end = from + total == size
                                            ? line_start_before(fd, from, size)
                                            : line_start_after(fd, from + total, size);
    if (!end) return nullptr;
    // A line longer than the limit holds no chunk start: its chunk starts after it.
    std::vector<uint64_t> starts{from};
    for (unsigned i = 1; i < o.threads; ++i) {
        const uint64_t target = std::max(starts.back(), from + total * i / o.threads);
        auto s = line_start_after(fd, target, std::min<uint64_t>(*end, target + max_line + 1));
        if (s) *s += batch_start_at(fd, *s, *end, format);
        if (s && *s<*end&& * s> starts.back()) starts.push_back(*s);
    }
    if (starts.size() < 2) return nullptr;
    const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return nullptr;
    std::unique_ptr<BacklogReplay> r(new BacklogReplay(UniqueFd(dup), starts[1]));
    for (size_t i = 1; i < starts.size(); ++i)
        r->chunks_.push_back(
            std::make_unique<Chunk>(starts[i], i + 1 < starts.size() ? starts[i + 1] : *end,
                                    agg.options(), tag, format, max_line, assumed));
    r->failed_.assign(r->chunks_.size(), 0);
    r->running_ = r->chunks_.size();
    for (size_t i = 0; i < r->chunks_.size(); ++i)
        r->threads_.emplace_back([p = r.get(), i] {
            try {
                p->read(*p->chunks_[i]);
            } catch (const std::exception& e) {
                spdlog::warn("backlog replay: a chunk failed ({}); one pass reads it", e.what());
                p->failed_[i] = 1;
            }
            if (p->stop_) p->failed_[i] = 1;
            p->running_.fetch_sub(1, std::memory_order_release);
        });
    return r;
}

BacklogReplay::~BacklogReplay() {
    stop_ = true;
    for (std::thread& t : threads_)
        t.join();
}

void BacklogReplay::read(Chunk& c) {
    std::vector<char> buf(kReadBytes);
    for (uint64_t at = c.begin; at < c.end && !stop_.load(std::memory_order_relaxed);) {
        const ssize_t got =
            pread_full(fd_.get(), buf.data(), std::min<uint64_t>(buf.size(), c.end - at), at);
        if (got <= 0) throw std::runtime_error(got < 0 ? std::strerror(errno) : "file shrank");
        c.ingest.set_arrival_time(wall_clock_seconds());
        c.ingest.feed({buf.data(), static_cast<size_t>(got)});
        at += static_cast<uint64_t>(got);
    }
}

size_t BacklogReplay::finish(StreamIngest& head, Aggregates& agg, SourceStats& s) {
    if (head.consumed() != head_end_ || !head.at_clean_boundary()) return 0;
    ChunkChain chain(head);
    size_t n = 0;
    while (n < chunks_.size() && !failed_[n] && chain.append(*chunks_[n], agg, s, false))
        ++n;
    if (n > 0) {
        head.reset(chunks_[n - 1]->end);
        chain.resume(head);
    }
    return n;
}

}  // namespace moe
