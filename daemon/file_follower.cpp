#include "daemon/file_follower.hpp"

#include "daemon/wall_clock.hpp"
#include "ingest/parallel_ingest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace moe {

namespace {
std::string file_id_of(const struct stat& st) {
    std::string id =
        std::to_string(st.st_dev);  // (appends avoid a GCC 12 -Wrestrict false positive)
    id += ':';
    id += std::to_string(st.st_ino);
    return id;
}

const char* file_type_name(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a regular file";
}
}  // namespace

std::string not_followable(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return "";
    return "--follow " + path + ": is " + file_type_name(st.st_mode) +
           "; only regular files (or a path that does not exist yet) can be followed";
}

FileFollower::FileFollower(boost::asio::io_context& io, std::string path, SourceStats restored,
                           Aggregates& agg, FollowOptions opts)
    : timer_(io),
      path_(std::move(path)),
      stats_(std::move(restored)),
      opts_(opts),
      ingest_(agg, stats_, opts.format, opts.max_line),
      buf_(1u << 20),
      agg_(agg),
      can_replay_(opts.replay.threads > 1 && parallel_ingest_possible(agg.options())) {
    stats_.kind = "file";
    ingest_.refuse_other_model();
}

FileFollower::~FileFollower() {
    if (fd_ >= 0) ::close(fd_);
}

void FileFollower::schedule(int delay_ms) {
    timer_.expires_after(std::chrono::milliseconds(delay_ms));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        const bool more = poll();
        schedule(more ? 0 : replay_waiting() ? 1 : opts_.poll_ms);
    });
}

// Opens `path` if it is a regular file; else logs why (once per reason) and returns -1.
int FileFollower::open_regular(const std::string& path, struct stat& st) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    std::string why;
    if (fd < 0)
        why = std::strerror(errno);
    else if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = std::string("is ") + file_type_name(st.st_mode) + ", not a regular file";
    if (why.empty()) {
        waiting_for_.clear();
        return fd;
    }
    if (fd >= 0) ::close(fd);
    if (why != waiting_for_)
        spdlog::info("{}: {}; waiting for a regular file to appear", path, why);
    waiting_for_ = why;
    return -1;
}

// The file of the last run, renamed in the same directory (f.log.1, f.log-20260101, ...)
// while moescoped was stopped: "" if there is none.
std::string FileFollower::find_rotated(const std::string& file_id) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    size_t seen = 0;
    for (const auto& e : fs::directory_iterator(fs::path(path_).parent_path(), ec)) {
        if (++seen > kMaxSiblings) break;  // a huge directory: give up, read the new file
        struct stat st {};
        if (::stat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && file_id_of(st) == file_id)
            return e.path().string();
    }
    return "";
}

std::string FileFollower::pread_window(int fd, uint64_t end, size_t max) {
    const uint64_t begin = end - std::min<uint64_t>(end, max);
    std::string out(end - begin, '\0');
    size_t got = 0;
    while (got < out.size()) {
        const ssize_t n =
            ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(begin + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    out.resize(got);
    return out;
}

bool FileFollower::try_open(bool resume) {
    struct stat st {};
    int fd = open_regular(path_, st);
    const FollowCheckpoint saved = decode_follow_checkpoint(stats_.stream_state);
    if (resume && !searched_rotated_ && !stats_.file_id.empty() &&
        (fd < 0 || file_id_of(st) != stats_.file_id)) {
        searched_rotated_ = true;  // once: not a directory scan per poll while waiting
        // Rotated while we were down (a new file at the path, or none yet): finish the old
        // file first; poll() then drains it and switches as for a rotation seen live.
        const std::string old = find_rotated(stats_.file_id);
        struct stat ost {};
        const int ofd = old.empty() ? -1 : open_regular(old, ost);
        if (ofd >= 0 && file_id_of(ost) == stats_.file_id) {
            spdlog::info("{}: rotated while moescoped was stopped; finishing {} first", path_, old);
            if (fd >= 0) ::close(fd);
            fd = ofd;
            st = ost;
        } else if (ofd >= 0) {
            ::close(ofd);
        }
    }
    if (fd < 0) return false;
    fd_ = fd;
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    const std::string id = file_id_of(st);
    const auto size = static_cast<uint64_t>(st.st_size);
    bool resumed = resume && stats_.file_id == id && stats_.offset <= size;
    if (resumed && saved.fingerprint &&
        fingerprint_of(pread_window(fd_, stats_.offset, saved.fingerprint->length)) !=
            *saved.fingerprint) {
        spdlog::warn(
            "{}: rewritten while moescoped was stopped (the bytes before offset {} "
            "changed); reading from the start",
            path_, stats_.offset);
        resumed = false;
    }
    if (resumed) {
        read_pos_ = stats_.offset;
        spdlog::info("{}: resuming at byte {} of {}", path_, read_pos_, size);
    } else {
        if (resume && !stats_.file_id.empty() && stats_.file_id != id)
            spdlog::warn("{}: not the file of the last run (or shorter); reading from the start",
                         path_);
        if (!resume || !stats_.file_id.empty()) ++stats_.restarts;
        read_pos_ = 0;
        spdlog::info("{}: following from the start ({} bytes)", path_, size);
    }
    resume_pending_ = false;
    stats_.file_id = id;
    stats_.file_size = size;
    stats_.offset = read_pos_;
    stats_.dirty = true;
    tail_ = pread_window(fd_, read_pos_, kFingerprintBytes);
    seen_ = st;
    ingest_.reset(read_pos_);
    if (resumed) ingest_.restore(saved.ingest_state);  // pending gate vectors etc.
    return true;
}

void FileFollower::checkpoint() {
    ingest_.settle_pending();
    if (!stats_.dirty) return;
    // The fingerprint of what lies before the committed offset: from the bytes in memory
    // when they cover it (the usual case: the file ends with a complete line), else read.
    const uint64_t consumed = ingest_.consumed();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(consumed, kFingerprintBytes));
    const uint64_t tail_start = read_pos_ - tail_.size();
    if (consumed - want >= tail_start && consumed <= read_pos_)
        fingerprint_ =
            fingerprint_of(std::string_view(tail_).substr(consumed - want - tail_start, want));
    else if (fd_ >= 0)
        fingerprint_ = fingerprint_of(pread_window(fd_, consumed, kFingerprintBytes));
    stats_.stream_state = encode_follow_checkpoint(fingerprint_, ingest_.checkpoint());
}

void FileFollower::close_current(bool count_partial) {
    replay_.reset();
    if (count_partial) ingest_.finish();
    ::close(fd_);
    fd_ = -1;
}

void FileFollower::restart_from_zero(const char* why) {
    spdlog::info("{}: {}; reading from the start", path_, why);
    replay_.reset();   // its chunks were read from the old bytes
    ingest_.finish();  // a line cut by the truncation is a partial_line reject
    ++stats_.restarts;
    read_pos_ = 0;
    tail_.clear();
    ingest_.reset(0);
    stats_.offset = 0;
    stats_.dirty = true;
}

// Truncated and refilled past our offset between two polls (a fast llama-server restart):
// the last bytes we read are no longer there. Checked only when the file changed (size,
// mtime or ctime), so an idle file costs nothing and a growing one a read of at most
// kFingerprintBytes per poll.
bool FileFollower::rewritten_behind_us(const struct stat& st) {
    const bool changed = st.st_size != seen_.st_size || st.st_mtim.tv_sec != seen_.st_mtim.tv_sec ||
                         st.st_mtim.tv_nsec != seen_.st_mtim.tv_nsec ||
                         st.st_ctim.tv_sec != seen_.st_ctim.tv_sec ||
                         st.st_ctim.tv_nsec != seen_.st_ctim.tv_nsec;
    seen_ = st;
    return changed && !tail_.empty() && pread_window(fd_, read_pos_, tail_.size()) != tail_;
}

void FileFollower::start_replay(uint64_t size) {
    if (!can_replay_ || size - read_pos_ < opts_.replay.min_backlog) return;
    if (ingest_.strided_policy().verdict() == StridedPolicy::Verdict::undecided) {
        if (!replay_waits_until_ || *replay_waits_until_ > read_pos_ + kDecideBytes)
            replay_waits_until_ = read_pos_ + kDecideBytes;
        if (read_pos_ < *replay_waits_until_) return;  // read_available() reads a step
    }
    replay_waits_until_.reset();
    replay_ = BacklogReplay::start(fd_, read_pos_, size, opts_.replay, agg_, stats_.tag,
                                   opts_.format, opts_.max_line,
                                   ingest_.strided_policy().verdict());
    if (!replay_) return;
    if (replay_counts_.rounds++ == 0 || !replaying_)
        spdlog::info("{}: {} bytes unread; reading them on {} threads", path_, size - read_pos_,
                     replay_->chunks());
    replaying_ = true;
    replay_counts_.chunks += replay_->chunks() - 1;
}

bool FileFollower::finish_replay() {
    if (!replay_->ready()) return false;
    const size_t appended = replay_->finish(ingest_, agg_, stats_);
    replay_counts_.appended += appended;
    if (appended > 0) {
        read_pos_ = ingest_.consumed();
        tail_ = pread_window(fd_, read_pos_, kFingerprintBytes);
        stats_.offset = read_pos_;
        stats_.dirty = true;
    } else {
        spdlog::info("{}: a chunk of the backlog needs one pass; reading it on the loop", path_);
    }
    replay_.reset();
    return true;
}

bool FileFollower::read_available() {
    // During a replay round the follower reads its own chunk only.
    size_t budget = replay_ ? static_cast<size_t>(std::min<uint64_t>(
                                  opts_.read_budget, replay_->head_end() - read_pos_))
                            : opts_.read_budget;
    // A replay waiting for the verdict is tried again after each step.
    if (!replay_ && replay_waits_until_) budget = std::min<size_t>(budget, kDecideStep);
    ingest_.set_arrival_time(wall_clock_seconds());
    while (budget > 0) {
        const ssize_t n =
            ::pread(fd_, buf_.data(), std::min(buf_.size(), budget), static_cast<off_t>(read_pos_));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n < 0) spdlog::warn("{}: read failed: {}", path_, std::strerror(errno));
            break;
        }
        const std::string_view got(buf_.data(), static_cast<size_t>(n));
        ingest_.feed(got);
        read_pos_ += static_cast<uint64_t>(n);
        remember_tail(got);
        budget -= static_cast<size_t>(n);
    }
    stats_.offset = ingest_.consumed();
    return budget == 0;
}

bool FileFollower::poll() {
    if (fd_ < 0 && !try_open(resume_pending_)) return false;

    struct stat st {};
    ::fstat(fd_, &st);
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size < read_pos_) {
        restart_from_zero("truncated");
    } else if (rewritten_behind_us(st)) {
        restart_from_zero("rewritten");
    }
    if (replay_ && read_pos_ == replay_->head_end() && !finish_replay()) return false;
    if (!replay_) start_replay(size);
    if (!replay_ && replaying_ && size - read_pos_ < opts_.replay.min_backlog) {
        replaying_ = false;
        spdlog::info("{}: backlog read ({} of {} chunks on other threads appended)", path_,
                     replay_counts_.appended, replay_counts_.chunks);
    }
    const uint64_t before = read_pos_;
    if (read_available()) {
        stats_.file_size = size;
        return true;
    }
    if (replay_) {  // rotation is looked at when the round is done
        stats_.file_size = size;
        return read_pos_ < replay_->head_end();
    }

    // Rotation: the path now names another file, or nothing. Writers often keep appending
    // to the renamed file for a moment, so the old file is read until it has been quiet for
    // opts_.rotate_quiet_ms (at most opts_.rotate_max_ms); then its unterminated last line,
    // if any, is a partial_line reject and the new file is read from its start.
    struct stat now {};
    const bool exists = ::stat(path_.c_str(), &now) == 0;
    if (exists && now.st_ino == ino_ && now.st_dev == dev_) {
        draining_ = false;
        ::fstat(fd_, &st);
        stats_.file_size = static_cast<uint64_t>(st.st_size);
        return false;
    }
    const auto t = std::chrono::steady_clock::now();
    if (!draining_) {
        draining_ = true;
        drain_started_ = drain_quiet_since_ = t;
        spdlog::info("{}: {}; reading the old file until it is quiet", path_,
                     exists ? "rotated" : "deleted");
        return false;
    }
    if (read_pos_ != before) drain_quiet_since_ = t;
    if (t - drain_quiet_since_ < std::chrono::milliseconds(opts_.rotate_quiet_ms) &&
        t - drain_started_ < std::chrono::milliseconds(opts_.rotate_max_ms))
        return false;
    draining_ = false;
    close_current(true);
    spdlog::info("{}: {}", path_,
                 exists ? "switching to the new file" : "waiting for the file to reappear");
    if (exists && try_open(false)) return read_available();
    return false;
}

void FileFollower::reopen() {
    if (fd_ < 0) return;
    spdlog::info("{}: reopening (SIGHUP)", path_);
    struct stat now {};
    if (::stat(path_.c_str(), &now) == 0 && now.st_ino == ino_ && now.st_dev == dev_) return;
    poll();
}

}  // namespace moe
