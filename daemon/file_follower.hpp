// Follows one log file like `tail -F`: reads appended complete lines, survives truncation
// (llama-server restarts rewrite the file) and rotation (rename, copytruncate, compression:
// every generation written is read, in order), waits for a file that does not exist yet, and
// resumes at the committed offset after a restart, wherever rotation moved that file.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/backlog_replay.hpp"
#include "daemon/follow_checkpoint.hpp"
#include "daemon/rotated_generations.hpp"
#include "daemon/source.hpp"
#include "ingest/input_reader.hpp"
#include "ingest/stream_ingest.hpp"
#include "models/unique_fd.hpp"

namespace moe {

struct FollowOptions {
    Format format = Format::auto_detect;
    size_t max_line = LineSplitter::kDefaultMaxLine;
    int poll_ms = 100;              // how often the file is checked for new bytes
    size_t read_budget = 8u << 20;  // bytes per turn before yielding to other sources
    int rotate_quiet_ms = 1000;     // after a rename, read the old file until quiet this long
    int rotate_max_ms = 10000;      // ... but no longer than this
    ReplayOptions replay;           // a large backlog is read on several threads
};

// "" if `path` can be followed (a regular file, or nothing yet), else a one-line reason:
// a FIFO would block the daemon until a writer opens it, a directory can never be read.
std::string not_followable(const std::string& path);

class FileFollower : public Source {
  public:
    // `restored` carries the counters and offset committed by an earlier run (or is fresh).
    FileFollower(boost::asio::io_context& io, std::string path, SourceStats restored,
                 Aggregates& agg, FollowOptions opts);
    ~FileFollower() override;

    void start() override { schedule(0); }
    void stop() override { timer_.cancel(); }
    void reopen() override;
    SourceStats& stats() override { return stats_; }
    void checkpoint() override;

    // One polling step (public for tests): open, detect rotation or truncation, read.
    // Returns true if it stopped because of the read budget (more bytes are waiting).
    bool poll();
    // Backlog replay so far (daemon/backlog_replay.hpp): rounds, and chunks read on another
    // thread and appended.
    struct ReplayCounts {
        uint64_t rounds = 0, chunks = 0, appended = 0;
    };
    const ReplayCounts& replay_counts() const { return replay_counts_; }
    // A replay round waits for its chunk threads (poll again soon).
    bool replay_waiting() const { return replay_ && read_pos_ == replay_->head_end(); }

  private:
    void schedule(int delay_ms);
    // Opens what is to be read next: at start the committed generation wherever rotation
    // put it, after a generation the next one written (rotated_generations.hpp), else the path.
    bool open_next();
    bool open_resumed();
    // Starts reading `g` (plain or compressed) at `offset`; `how` says what the stream does.
    enum class Continue { new_stream, restore, same_stream };
    bool open_generation(const Generation& g, uint64_t offset, Continue how);
    void begin(UniqueFd fd, const struct stat& st, uint64_t offset, Continue how);
    // The generation is read: its mark is kept, the next one is looked for after its mtime
    // (`refresh`: as it is now, else as last seen).
    void leave_generation(bool refresh = true);
    // The oldest generation beside the path written after the one left (`scan_`), that is
    // neither the path's file (`path_st`, if there is one) nor one read before.
    std::optional<Generation> next_generation(const struct stat* path_st) const;
    bool switch_to_copy(const char* why);
    void close_current(bool count_partial);
    // Reads up to the budget from the current file; true if the budget ran out.
    bool read_available();
    bool read_compressed();
    bool rewritten_behind_us(const struct stat& st);
    UniqueFd open_regular(const std::string& path, struct stat& st);
    GenerationMark mark_at(uint64_t end);
    static std::string pread_window(int fd, uint64_t end, size_t max);
    void remember(std::string_view got);

    static constexpr size_t kMaxSiblings = 10000;  // directory entries searched
    void restart_from_zero(const char* why);
    // Starts a replay round when the unread bytes are many; ends one whose chunks are read.
    void start_replay(uint64_t size);
    bool finish_replay();  // false: its chunks are still being read

    boost::asio::steady_timer timer_;
    std::string path_;
    SourceStats stats_;
    FollowOptions opts_;
    StreamIngest ingest_;
    UniqueFd fd_;
    std::unique_ptr<InputReader> unpacked_;  // a compressed generation being read
    Generation current_;                     // what fd_ or unpacked_ reads
    bool at_path_ = true;                    // current_ was the followed path's file when opened
    uint64_t read_pos_ = 0;                  // next byte to read (decompressed, for unpacked_)
    uint64_t skip_ = 0;                      // decompressed bytes still to skip to read_pos_
    bool resume_pending_ = true;             // first open: find the committed generation
    std::string waiting_for_;                // why the path cannot be opened, as last logged
    bool draining_ = false;                  // read until quiet, then the next generation
    std::chrono::steady_clock::time_point drain_started_, drain_quiet_since_;
    // From leaving a generation until the path's file is open again: where the next
    // generation is looked for.
    struct Scan {
        // Generations last written before this are older than the last plain one read (its
        // mtime; at start, the committed file's, which a compressed copy does not keep).
        int64_t after_ns = 0;
        // Empty generations left in this chain (the others have marks): not opened again
        // while still empty (an inode alone would skip a new file that reuses it).
        std::vector<std::pair<dev_t, ino_t>> empty_left;
        bool scanned = false;  // looked once while the path is missing
    };
    std::optional<Scan> scan_;
    std::vector<GenerationMark> finished_;  // generations read to their end, oldest first

    std::vector<char> buf_;
    std::string head_;     // the current generation's first bytes, up to kFingerprintBytes
    std::string tail_;     // the last bytes read, up to kFingerprintBytes, ending at read_pos_
    struct stat seen_ {};  // the current file's size and times at the last poll
    GenerationMark mark_;  // of the last checkpointed offset
    Aggregates& agg_;
    bool can_replay_;  // the analytics allow it (ingest/parallel_ingest.hpp)
    // While the stream's strided-view verdict is undecided, replay waits until here: the
    // chunks assume the follower's verdict (ingest/strided_policy.hpp).
    std::optional<uint64_t> replay_waits_until_;
    static constexpr uint64_t kDecideBytes = 4u << 20;  // decide the verdict of almost any log
    static constexpr size_t kDecideStep = 256u << 10;
    std::unique_ptr<BacklogReplay> replay_;
    ReplayCounts replay_counts_;
    bool replaying_ = false;  // rounds follow one another (logged at start and end)
};

}  // namespace moe
