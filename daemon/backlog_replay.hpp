// moescoped's replay of a followed file's backlog on several threads (docs/ARCHITECTURE.md
// "Parallel ingest"): when a file holds many unread bytes (a restart over an archive, a
// daemon that fell behind), one round covers the next `threads` chunks of them. The
// follower reads the first chunk itself, on the loop, as it reads any bytes; each other
// chunk is read on its own thread into a Chunk (its own aggregates); when the follower
// reaches the end of its chunk, the others are appended through a ChunkChain, so the
// figures are one pass's. The live tail (a few MB behind) stays sequential.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ingest/chunk_chain.hpp"
#include "models/unique_fd.hpp"

namespace moe {

struct ReplayOptions {
    unsigned threads = 1;                // 1: no replay
    uint64_t min_backlog = 64ull << 20;  // unread bytes that start a round
    uint64_t chunk_bytes = 64ull << 20;  // each thread's share of one round
};

class BacklogReplay {
  public:
    // A round over the unread bytes [from, ...) of the file `fd` of `size` bytes, or nullptr
    // when they cannot be cut into two chunks on line boundaries. `fd` is duplicated: the
    // chunk threads read it with pread, whatever the follower does with its own. `assumed`:
    // the follower's strided-view verdict, which the chunks take to hold at their start.
    static std::unique_ptr<BacklogReplay> start(int fd, uint64_t from, uint64_t size,
                                                const ReplayOptions& o, const Aggregates& agg,
                                                const std::string& tag, Format format,
                                                size_t max_line, StridedPolicy::Verdict assumed);
    ~BacklogReplay();  // stops the chunk threads and waits for them
    BacklogReplay(const BacklogReplay&) = delete;
    BacklogReplay& operator=(const BacklogReplay&) = delete;

    // Where the follower's own chunk ends: it reads no further until finish().
    uint64_t head_end() const { return head_end_; }
    uint64_t end() const { return chunks_.back()->end; }
    size_t chunks() const { return chunks_.size() + 1; }
    // Every chunk thread is done.
    bool ready() const { return running_.load(std::memory_order_acquire) == 0; }
    // After ready(), with `head` (the follower's stream) consumed up to head_end(): appends
    // the chunks one pass would have counted alike, continues `head` after them, and returns
    // how many (0: `head` reads on from head_end() by itself).
    size_t finish(StreamIngest& head, Aggregates& agg, SourceStats& s);

  private:
    BacklogReplay(UniqueFd fd, uint64_t head_end) : fd_(std::move(fd)), head_end_(head_end) {}
    void read(Chunk& c);

    UniqueFd fd_;
    uint64_t head_end_;
    std::vector<std::unique_ptr<Chunk>> chunks_;  // the second chunk on
    std::vector<char> failed_;                    // per chunk: its thread threw
    std::atomic<size_t> running_{0};
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
};

}  // namespace moe
