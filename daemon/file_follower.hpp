// Follows one log file like `tail -F`: reads appended complete lines, survives truncation
// (llama-server restarts rewrite the file) and rotation (rename + new file), waits for a
// file that does not exist yet, and resumes at the committed offset after a restart.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/backlog_replay.hpp"
#include "daemon/follow_checkpoint.hpp"
#include "daemon/source.hpp"
#include "ingest/stream_ingest.hpp"

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
    bool try_open(bool resume);
    void close_current(bool count_partial);
    // Reads up to the budget from the current file; true if the budget ran out.
    bool read_available();
    bool rewritten_behind_us(const struct stat& st);
    int open_regular(const std::string& path, struct stat& st);
    std::string find_rotated(const std::string& file_id) const;
    static std::string pread_window(int fd, uint64_t end, size_t max);
    void remember_tail(std::string_view got) {
        if (got.size() >= kFingerprintBytes) {
            tail_.assign(got.substr(got.size() - kFingerprintBytes));
            return;
        }
        tail_.append(got);
        if (tail_.size() > kFingerprintBytes) tail_.erase(0, tail_.size() - kFingerprintBytes);
    }

    static constexpr size_t kMaxSiblings = 10000;  // directory entries searched at start
    void restart_from_zero(const char* why);
    // Starts a replay round when the unread bytes are many; ends one whose chunks are read.
    void start_replay(uint64_t size);
    bool finish_replay();  // false: its chunks are still being read

    boost::asio::steady_timer timer_;
    std::string path_;
    SourceStats stats_;
    FollowOptions opts_;
    StreamIngest ingest_;
    int fd_ = -1;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    uint64_t read_pos_ = 0;          // next byte to read from fd_
    bool resume_pending_ = true;     // first open: try the committed offset
    bool searched_rotated_ = false;  // looked for the committed file under another name
    std::string waiting_for_;        // why the path cannot be opened, as last logged
    bool draining_ = false;          // the path moved away; still reading the old file
    std::chrono::steady_clock::time_point drain_started_, drain_quiet_since_;

    std::vector<char> buf_;
    std::string tail_;         // the last bytes read, up to kFingerprintBytes, ending at read_pos_
    struct stat seen_ {};      // fd_'s size and times at the last poll
    Fingerprint fingerprint_;  // of the bytes before the last checkpointed offset
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
