#include "daemon/file_follower.hpp"

#include "daemon/wall_clock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

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
      buf_(1u << 20) {
    stats_.kind = "file";
}

FileFollower::~FileFollower() {
    if (fd_ >= 0) ::close(fd_);
}

void FileFollower::schedule(int delay_ms) {
    timer_.expires_after(std::chrono::milliseconds(delay_ms));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        const bool more = poll();
        schedule(more ? 0 : opts_.poll_ms);
    });
}

bool FileFollower::try_open(bool resume) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st {};
    std::string why;
    if (fd < 0)
        why = std::strerror(errno);
    else if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = std::string("is ") + file_type_name(st.st_mode) + ", not a regular file";
    if (!why.empty()) {
        if (fd >= 0) ::close(fd);
        if (why != waiting_for_)
            spdlog::info("{}: {}; waiting for a regular file to appear", path_, why);
        waiting_for_ = why;
        return false;
    }
    fd_ = fd;
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    waiting_for_.clear();
    const std::string id = file_id_of(st);
    const auto size = static_cast<uint64_t>(st.st_size);
    const bool resumed = resume && stats_.file_id == id && stats_.offset <= size;
    if (resumed) {
        read_pos_ = stats_.offset;
        spdlog::info("{}: resuming at byte {} of {}", path_, read_pos_, size);
    } else {
        if (resume && !stats_.file_id.empty())
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
    ingest_.reset(read_pos_);
    if (resumed) ingest_.restore(stats_.stream_state);  // pending gate vectors etc.
    return true;
}

void FileFollower::close_current(bool count_partial) {
    if (count_partial) ingest_.finish();
    ::close(fd_);
    fd_ = -1;
}

void FileFollower::restart_from_zero(const char* why) {
    spdlog::info("{}: {}; reading from the start", path_, why);
    ingest_.finish();  // a line cut by the truncation is a partial_line reject
    ++stats_.restarts;
    read_pos_ = 0;
    ingest_.reset(0);
    stats_.offset = 0;
    stats_.dirty = true;
}

bool FileFollower::rewritten_behind_us() {
    // Every consumed line ended with '\n'; if that byte changed, the file was truncated and
    // refilled past our offset between two polls (a fast llama-server restart).
    const uint64_t consumed = ingest_.consumed();
    if (consumed == 0) return false;
    char c = 0;
    return ::pread(fd_, &c, 1, static_cast<off_t>(consumed - 1)) == 1 && c != '\n';
}

bool FileFollower::read_available() {
    size_t budget = opts_.read_budget;
    ingest_.set_arrival_time(wall_clock_seconds());
    while (budget > 0) {
        const ssize_t n =
            ::pread(fd_, buf_.data(), std::min(buf_.size(), budget), static_cast<off_t>(read_pos_));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n < 0) spdlog::warn("{}: read failed: {}", path_, std::strerror(errno));
            break;
        }
        ingest_.feed(std::string_view(buf_.data(), static_cast<size_t>(n)));
        read_pos_ += static_cast<uint64_t>(n);
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
    } else if (size > read_pos_ && rewritten_behind_us()) {
        restart_from_zero("rewritten");
    }
    const uint64_t before = read_pos_;
    if (read_available()) {
        stats_.file_size = size;
        return true;
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
