#include "daemon/file_follower.hpp"

#include "analytics/wall_clock.hpp"
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

FileFollower::~FileFollower() = default;

void FileFollower::schedule(int delay_ms) {
    timer_.expires_after(std::chrono::milliseconds(delay_ms));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        const bool more = poll();
        schedule(more ? 0 : replay_waiting() ? 1 : opts_.poll_ms);
    });
}

// Opens `path` if it is a regular file; else logs why (once per reason) and returns none.
UniqueFd FileFollower::open_regular(const std::string& path, struct stat& st) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    std::string why;
    if (!fd.valid())
        why = std::strerror(errno);
    else if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        why = std::string("is ") + file_type_name(st.st_mode) + ", not a regular file";
    if (why.empty()) {
        waiting_for_.clear();
        return fd;
    }
    if (why != waiting_for_)
        spdlog::info("{}: {}; waiting for a regular file to appear", path, why);
    waiting_for_ = why;
    return {};
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

void FileFollower::remember(std::string_view got) {
    if (head_.size() < kFingerprintBytes)
        head_.append(got.substr(0, kFingerprintBytes - head_.size()));
    if (got.size() >= kFingerprintBytes) {
        tail_.assign(got.substr(got.size() - kFingerprintBytes));
        return;
    }
    tail_.append(got);
    if (tail_.size() > kFingerprintBytes) tail_.erase(0, tail_.size() - kFingerprintBytes);
}

bool FileFollower::open_next() {
    if (resume_pending_) return open_resumed();
    struct stat st {};
    UniqueFd fd = open_regular(path_, st);
    // While the path is missing, once: not a directory scan per poll. The path's file is
    // opened first, so the file left out of the scan is the one read after it (the path may
    // be renamed meanwhile).
    if (scan_ && (fd.valid() || !scan_->scanned)) {
        scan_->scanned = true;
        if (auto g = next_generation(fd.valid() ? &st : nullptr)) {
            fd.reset();
            spdlog::info("{}: reading {} ({} bytes), written after the file read before", path_,
                         g->path, g->st.st_size);
            return open_generation(*g, 0, Continue::new_stream);
        }
    }
    if (!fd.valid()) return false;
    scan_.reset();  // the chain ends at the path's file
    at_path_ = true;
    current_ = {path_, st, false};
    begin(std::move(fd), st, 0, Continue::new_stream);
    return true;
}

std::optional<Generation> FileFollower::next_generation(const struct stat* path_st) const {
    std::optional<Generation> best;
    for (Generation& g : rotated_siblings(path_, kMaxSiblings)) {
        const auto left = [&](const std::pair<dev_t, ino_t>& v) {
            return v.first == g.st.st_dev && v.second == g.st.st_ino;
        };
        if (g.mtime_ns() < scan_->after_ns || (path_st && g.same_file(*path_st)) ||
            (g.st.st_size == 0 &&
             std::any_of(scan_->empty_left.begin(), scan_->empty_left.end(), left)))
            continue;
        if (read_before(g, finished_)) {
            spdlog::debug("{}: {} was read before", path_, g.path);
            continue;
        }
        if (!best || g.mtime_ns() < best->mtime_ns() ||
            (g.mtime_ns() == best->mtime_ns() && g.path < best->path))
            best = std::move(g);
    }
    return best;
}

// The first open: the committed file, at the path or wherever rotation put it while
// moescoped was stopped (renamed, copied, compressed); the generations written after it are
// then read in order (open_next) before the file now at the path.
bool FileFollower::open_resumed() {
    if (stats_.file_id.empty()) {  // nothing committed: the path from its start
        resume_pending_ = false;
        return open_next();
    }
    struct stat pst {};
    UniqueFd fd = open_regular(path_, pst);
    const FollowCheckpoint saved = decode_follow_checkpoint(stats_.stream_state);
    std::optional<GenerationMark> at = saved.at;
    if (at) at->end = stats_.offset;
    finished_ = saved.finished;
    const bool path_is_file = fd.valid();
    const bool same_inode = path_is_file && file_id_of(pst) == stats_.file_id;
    const auto unchanged = [&](int f) {
        return !at || fingerprint_of(pread_window(f, stats_.offset, at->before_end.length)) ==
                          at->before_end;
    };
    if (same_inode && stats_.offset <= static_cast<uint64_t>(pst.st_size) && unchanged(fd.get())) {
        resume_pending_ = false;
        spdlog::info("{}: resuming at byte {} of {}", path_, stats_.offset, pst.st_size);
        at_path_ = true;
        current_ = {path_, pst, false};
        begin(std::move(fd), pst, stats_.offset, Continue::restore);
        return true;
    }
    fd.reset();
    // Once only, even while nothing is found: not a directory scan per poll.
    resume_pending_ = false;
    std::vector<Generation> candidates = rotated_siblings(path_, kMaxSiblings);
    if (path_is_file) candidates.push_back(describe_generation(path_, pst));
    const Generation* found = nullptr;
    for (const Generation& g : candidates)  // the same file, renamed
        if (!g.compressed && file_id_of(g.st) == stats_.file_id &&
            static_cast<uint64_t>(g.st.st_size) >= stats_.offset &&
            (!at ||
             fingerprint_of(content_window(g, stats_.offset, at->before_end.length).value_or("")) ==
                 at->before_end))
            found = &g;
    for (const Generation& g : candidates)  // a copy (copytruncate, compressed)
        if (!found && at && holds(g, *at)) found = &g;
    // The generations written after the committed one are read next; a compressed copy of
    // it has a later mtime than its content, the checkpoint has the content's.
    if (saved.mtime_ns > 0) scan_ = Scan{saved.mtime_ns, {}, false};
    if (found) {
        if (found->path == path_) {
            spdlog::info("{}: replaced by a copy of itself; resuming at byte {}", path_,
                         stats_.offset);
            return open_generation(*found, stats_.offset, Continue::restore);
        }
        spdlog::info("{}: rotated while moescoped was stopped; finishing {} first (from byte {})",
                     path_, found->path, stats_.offset);
        return open_generation(*found, stats_.offset, Continue::restore);
    }
    const uint64_t lost = stats_.file_size > stats_.offset ? stats_.file_size - stats_.offset : 0;
    if (same_inode)
        spdlog::warn(
            "{}: rewritten while moescoped was stopped (the bytes before offset {} "
            "changed); reading from the start{}",
            path_, stats_.offset,
            lost ? fmt::format("; {} bytes past that offset were lost unread", lost) : "");
    else if (lost)
        spdlog::warn(
            "{}: the file of the last run ({} bytes of {} read) is not in its directory under "
            "any name, plain or compressed: {} bytes were lost unread",
            path_, stats_.offset, stats_.file_size, lost);
    else
        spdlog::info("{}: the file of the last run is gone; it had been read to its end", path_);
    return open_next();
}

bool FileFollower::open_generation(const Generation& g, uint64_t offset, Continue how) {
    at_path_ = g.path == path_;
    if (at_path_) scan_.reset();  // the chain ends at the path's file
    current_ = g;
    if (!g.compressed) {
        struct stat st {};
        UniqueFd fd = open_regular(g.path, st);
        if (!fd.valid()) return false;
        if (!g.same_file(st)) return false;  // renamed again meanwhile: look again
        begin(std::move(fd), st, offset, how);
        return true;
    }
    try {
        unpacked_ = std::make_unique<InputReader>(g.path);
    } catch (const std::runtime_error& e) {
        spdlog::warn("{}: {}", path_, e.what());
        return false;
    }
    skip_ = offset;
    begin(UniqueFd(), g.st, offset, how);
    return true;
}

// The position, fingerprints and ingest state for a generation now open at `offset`.
void FileFollower::begin(UniqueFd fd, const struct stat& st, uint64_t offset, Continue how) {
    fd_ = std::move(fd);
    const auto size = static_cast<uint64_t>(st.st_size);
    if (how == Continue::new_stream) {
        if (!stats_.file_id.empty()) ++stats_.restarts;
        spdlog::info("{}: following {}from the start ({} bytes)", path_,
                     at_path_ ? "" : current_.path + " ", size);
    }
    read_pos_ = offset;
    stats_.file_id = file_id_of(st);
    stats_.file_size = current_.compressed ? offset : size;
    stats_.offset = how == Continue::same_stream ? ingest_.consumed() : read_pos_;
    stats_.dirty = true;
    seen_ = st;
    draining_ = false;
    replay_waits_until_.reset();               // a position in the file before
    if (how == Continue::same_stream) return;  // a copy of what was read: all of it goes on
    const auto window = [&](uint64_t end) {
        return fd_.valid() ? pread_window(fd_.get(), end, kFingerprintBytes)
                           : content_window(current_, end, kFingerprintBytes).value_or("");
    };
    head_ = offset > 0 ? window(std::min<uint64_t>(offset, kFingerprintBytes)) : "";
    tail_ = offset > 0 ? window(offset) : "";
    ingest_.reset(read_pos_);
    if (how == Continue::restore)  // pending gate vectors etc.
        ingest_.restore(decode_follow_checkpoint(stats_.stream_state).ingest_state);
}

GenerationMark FileFollower::mark_at(uint64_t end) {
    const size_t head = static_cast<size_t>(std::min<uint64_t>(end, kFingerprintBytes));
    GenerationMark m{fingerprint_of(std::string_view(head_).substr(0, head)),
                     end,
                     {},
                     current_.st.st_dev,
                     current_.st.st_ino};
    // From the bytes in memory when they cover it (the usual case: the file ends with a
    // complete line), else read.
    const size_t want = head;
    const uint64_t tail_start = read_pos_ - tail_.size();
    if (end - want >= tail_start && end <= read_pos_)
        m.before_end =
            fingerprint_of(std::string_view(tail_).substr(end - want - tail_start, want));
    else if (fd_.valid())
        m.before_end = fingerprint_of(pread_window(fd_.get(), end, kFingerprintBytes));
    else if (unpacked_)
        m.before_end =
            fingerprint_of(content_window(current_, end, kFingerprintBytes).value_or(""));
    else
        m.before_end = mark_.before_end;
    return m;
}

void FileFollower::checkpoint() {
    ingest_.settle_pending();
    if (!stats_.dirty) return;
    if (fd_.valid() || unpacked_) mark_ = mark_at(ingest_.consumed());
    stats_.stream_state =
        encode_follow_checkpoint({mark_, mtime_ns(seen_), finished_, ingest_.checkpoint()});
}

void FileFollower::close_current(bool count_partial) {
    replay_.reset();
    if (count_partial) ingest_.finish();
    fd_.reset();
    unpacked_.reset();
    draining_ = false;
}

// Read to its end: its mark keeps a copy of it (compressed, copied) from being read again,
// and the generations written after it are read next (open_next), then the path's file.
void FileFollower::leave_generation(bool refresh) {
    const GenerationMark done = mark_at(read_pos_);
    mark_ = mark_at(ingest_.consumed());  // what the next checkpoint commits, fd_ closed
    if (refresh && fd_.valid()) ::fstat(fd_.get(), &seen_);
    // The chain goes on after the last generation read; a compressed one's mtime is that of
    // its compression, later than its content's.
    if (!scan_) scan_ = Scan{mtime_ns(seen_), {}, false};
    if (!current_.compressed) scan_->after_ns = std::max(scan_->after_ns, mtime_ns(seen_));
    spdlog::debug("{}: {} read to byte {}", path_, current_.path, read_pos_);
    if (done.end > 0) {
        finished_.push_back(done);
        if (finished_.size() > kFinishedMarksKept) finished_.erase(finished_.begin());
    } else {
        scan_->empty_left.emplace_back(seen_.st_dev, seen_.st_ino);
    }
    scan_->scanned = false;
    close_current(true);
    stats_.dirty = true;
}

// Truncated or rewritten: if a copy of what was read lies beside it (logrotate's
// copytruncate), the rest of the old content is read from the copy first.
bool FileFollower::switch_to_copy(const char* why) {
    if (!at_path_ || read_pos_ == 0) return false;
    const GenerationMark m = mark_at(read_pos_);
    for (const Generation& g : rotated_siblings(path_, kMaxSiblings)) {
        if (g.same_file(seen_) || !holds(g, m)) continue;
        spdlog::info("{}: {}; reading the rest of the old content from its copy {}", path_, why,
                     g.path);
        const uint64_t at = read_pos_;
        close_current(false);  // the stream goes on in the copy
        if (!open_generation(g, at, Continue::same_stream)) return false;
        return true;
    }
    return false;
}

// Truncated or rewritten with no copy of what was read beside it: what was read is left like
// a rotated generation, so a file written meanwhile (a copy of content never seen here) is
// read before the path's new content, from its start.
void FileFollower::restart_from_zero(const char* why) {
    const uint64_t unread = seen_.st_size > 0 && static_cast<uint64_t>(seen_.st_size) > read_pos_
                                ? static_cast<uint64_t>(seen_.st_size) - read_pos_
                                : 0;
    if (unread)
        spdlog::warn("{}: {}; reading from the start ({} bytes past the read offset were lost)",
                     path_, why, unread);
    else
        spdlog::info("{}: {}; reading from the start", path_, why);
    leave_generation(false);  // the mtime seen before: a copy made since is newer
    open_next();
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
    if (!changed) return false;
    const bool rewritten =
        !tail_.empty() && pread_window(fd_.get(), read_pos_, tail_.size()) != tail_;
    if (!rewritten) seen_ = st;  // else seen_ keeps the old size: what was lost
    return rewritten;
}

void FileFollower::start_replay(uint64_t size) {
    if (!can_replay_ || size - read_pos_ < opts_.replay.min_backlog) return;
    if (ingest_.strided_policy().verdict() == StridedPolicy::Verdict::undecided) {
        if (!replay_waits_until_ || *replay_waits_until_ > read_pos_ + kDecideBytes)
            replay_waits_until_ = read_pos_ + kDecideBytes;
        if (read_pos_ < *replay_waits_until_) return;  // read_available() reads a step
    }
    replay_waits_until_.reset();
    replay_ =
        BacklogReplay::start(fd_.get(), read_pos_, size, opts_.replay, agg_, stats_.tag,
                             opts_.format, opts_.max_line, ingest_.strided_policy().verdict());
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
        tail_ = pread_window(fd_.get(), read_pos_, kFingerprintBytes);
        if (head_.size() < kFingerprintBytes)
            head_ = pread_window(fd_.get(), std::min<uint64_t>(read_pos_, kFingerprintBytes),
                                 kFingerprintBytes);
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
        const ssize_t n = ::pread(fd_.get(), buf_.data(), std::min(buf_.size(), budget),
                                  static_cast<off_t>(read_pos_));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n < 0) spdlog::warn("{}: read failed: {}", path_, std::strerror(errno));
            break;
        }
        const std::string_view got(buf_.data(), static_cast<size_t>(n));
        ingest_.feed(got);
        read_pos_ += static_cast<uint64_t>(n);
        remember(got);
        budget -= static_cast<size_t>(n);
    }
    stats_.offset = ingest_.consumed();
    return budget == 0;
}

// A compressed generation (found beside the path at start or after a rotation): read to its
// end in budgeted slices, then the next one.
bool FileFollower::read_compressed() {
    size_t budget = opts_.read_budget;
    ingest_.set_arrival_time(wall_clock_seconds());
    try {
        while (budget > 0) {
            std::string_view got = unpacked_->read();
            if (got.empty()) break;
            const auto skipped = static_cast<size_t>(std::min<uint64_t>(skip_, got.size()));
            skip_ -= skipped;
            got.remove_prefix(skipped);
            ingest_.feed(got);
            read_pos_ += got.size();
            remember(got);
            budget -= std::min(budget, got.size());
        }
    } catch (const std::runtime_error& e) {
        spdlog::warn("{}: {}; the rest of it is not read", path_, e.what());
        budget = 1;
    }
    stats_.offset = ingest_.consumed();
    stats_.file_size = read_pos_;
    if (budget == 0) return true;
    if (unpacked_->truncated())
        spdlog::warn("{}: {} ends inside its compressed data; the rest of it is not read", path_,
                     current_.path);
    leave_generation();
    return open_next();
}

bool FileFollower::poll() {
    if (!fd_.valid() && !unpacked_ && !open_next()) return false;
    if (unpacked_) return read_compressed();

    struct stat st {};
    ::fstat(fd_.get(), &st);
    if (static_cast<uint64_t>(st.st_size) < read_pos_) {
        if (!switch_to_copy("truncated")) restart_from_zero("truncated");
    } else if (rewritten_behind_us(st)) {
        if (!switch_to_copy("rewritten")) restart_from_zero("rewritten");
    }
    if (unpacked_) return read_compressed();  // a compressed copy or generation
    if (!fd_.valid()) return false;
    ::fstat(fd_.get(), &st);
    seen_ = st;
    const auto size = static_cast<uint64_t>(st.st_size);
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

    // Rotation: the path now names another file, or nothing (or this is a generation found
    // beside it). Writers often keep appending to the renamed file for a moment, so the old
    // file is read until it has been quiet for opts_.rotate_quiet_ms (at most
    // opts_.rotate_max_ms); then its unterminated last line, if any, is a partial_line reject
    // and the next generation is read from its start.
    struct stat now {};
    const bool exists = ::stat(path_.c_str(), &now) == 0;
    ::fstat(fd_.get(), &st);
    stats_.file_size = static_cast<uint64_t>(st.st_size);
    if (at_path_ && exists && current_.same_file(now)) {
        draining_ = false;
        return false;
    }
    const auto t = std::chrono::steady_clock::now();
    if (!draining_) {
        draining_ = true;
        drain_started_ = drain_quiet_since_ = t;
        if (at_path_)
            spdlog::info("{}: {}; reading the old file until it is quiet", path_,
                         exists ? "rotated" : "deleted");
    }
    // A generation found beside the path is quiet when its last write is that old.
    const bool quiet =
        at_path_ ? (read_pos_ == before &&
                    t - drain_quiet_since_ >= std::chrono::milliseconds(opts_.rotate_quiet_ms))
                 : static_cast<int64_t>(wall_clock_seconds() * 1e9) - mtime_ns(st) >=
                       int64_t{opts_.rotate_quiet_ms} * 1000000;
    if (read_pos_ != before) drain_quiet_since_ = t;
    if (!quiet && t - drain_started_ < std::chrono::milliseconds(opts_.rotate_max_ms)) return false;
    const bool was_path = at_path_;
    leave_generation();
    if (was_path)
        spdlog::info("{}: {}", path_,
                     exists ? "switching to the next file" : "waiting for the file to reappear");
    if (open_next()) return unpacked_ ? read_compressed() : read_available();
    return false;
}

void FileFollower::reopen() {
    if (!fd_.valid()) return;
    spdlog::info("{}: reopening (SIGHUP)", path_);
    struct stat now {};
    if (at_path_ && ::stat(path_.c_str(), &now) == 0 && current_.same_file(now)) return;
    poll();
}

}  // namespace moe
