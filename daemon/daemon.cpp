#include "daemon/daemon.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <thread>

#include <sqlite3.h>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "analytics/wall_clock.hpp"
#include "daemon/prometheus_text.hpp"
#include "daemon/stdin_source.hpp"
#include "storage/writer_lock.hpp"

namespace moe {

namespace {
// One writer per database: a second moescoped on the same file would interleave offsets.
UniqueFd lock_database(const std::string& path) {
    UniqueFd fd = try_lock_writer(path);
    if (!fd.valid()) throw StorageError("another moescoped is already writing " + path);
    return fd;
}
}  // namespace

Daemon::Daemon(DaemonConfig cfg)
    : cfg_(std::move(cfg)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      flush_timer_(io_),
      store_(Store::open_for_writing(cfg_.db_path)),
      lock_fd_(lock_database(cfg_.db_path)),
      agg_(cfg_.analytics),
      acked_(agg_, cfg_.reset ? std::vector<StreamPosition>{} : store_.load_streams()),
      reject_log_(std::chrono::seconds(cfg_.reject_summary_s)),
      drift_(cfg_.drift),
      shutdown_timer_(io_) {
    store_.set_retention_seconds(cfg_.retention_seconds);
    store_.set_rollup(cfg_.rollup);
    if (cfg_.reset) {
        store_.reset();
        spdlog::warn("--reset: discarded the aggregates, offsets and model facts stored in {}",
                     cfg_.db_path);
    } else if (ModelFacts stored = agg_.facts(); store_.read_facts(stored)) {
        // The stored figures were made with these facts: adding to them with others would
        // mix two decays, bucket widths or expert counts.
        if (auto c = find_conflict(agg_.facts(), stored))
            throw IncompatibleFacts(
                std::string(c->field->option.empty() ? c->field->key : c->field->option) + " " +
                c->ours + " differs from " + c->theirs + " stored in " + cfg_.db_path +
                " (use --reset to start over, or the stored value)");
    }
    store_.load(agg_);
    stored_sources_ = store_.load_sources();
    if (cfg_.affinity) affinity_ = std::make_unique<LiveAffinity>(agg_, cfg_.affinity_window);
    if (!cfg_.diffs.empty())
        diffs_ = std::make_unique<LiveDiffs>(agg_, cfg_.diffs, cfg_.diff_window);
    if (drift_.kde() || affinity_ || diffs_) {
        agg_.set_routing_tap([this](TagId tag, const RoutingRecord& r, double when) {
            if (drift_.kde()) drift_.record(agg_, tag, r, when);
            if (affinity_) affinity_->add(tag, r);
            if (diffs_) diffs_->add(tag, r);
        });
        // The tap sees each record as it is counted: chunks read on other threads count
        // into their own aggregates, untapped.
        cfg_.follow.replay.threads = 1;
    }
    for (const auto& f : cfg_.follows) {
        const std::string abs = std::filesystem::absolute(f.path).lexically_normal().string();
        SourceStats s = take_stored(abs);
        s.tag = f.tag;
        sources_.push_back(
            std::make_unique<FileFollower>(io_, abs, std::move(s), agg_, cfg_.follow));
    }
    for (const auto& l : cfg_.listens)
        add_listener(l);
    if (cfg_.read_stdin) {
        SourceStats s = take_stored("stdin");
        s.tag = cfg_.stdin_tag;
        const bool only_source = sources_.empty();
        sources_.push_back(std::make_unique<StdinSource>(
            io_, std::move(s), agg_, cfg_.stream.format, cfg_.stream.max_line, [this, only_source] {
                if (only_source) shutdown("end of standard input");
            }));
    }
    if (cfg_.metrics) start_metrics(*cfg_.metrics);
    for (SourceStats* s : all_stats())
        note_committed(s->name, s->records);
}

void Daemon::start_metrics(const ListenSpec& spec) {
    namespace ip = boost::asio::ip;
    try {
        const ip::address addr = ip::make_address(spec.host);
        // Rendered at most once per flush interval and shared by every scraper: scrapes
        // cannot add up to more than one rendering per flush on the loop thread.
        metrics_ = std::make_unique<MetricsServer>(
            io_, ip::tcp::endpoint(addr, spec.port),
            [this] {
                const auto now = std::chrono::steady_clock::now();
                if (!metrics_text_ ||
                    now - metrics_rendered_at_ >= std::chrono::milliseconds(cfg_.flush_ms)) {
                    std::vector<const SourceStats*> stats;
                    for (auto& s : sources_)
                        stats.push_back(&s->stats());
                    if (diffs_) diffs_->publish();
                    metrics_text_ = std::make_shared<const std::string>(
                        prometheus_text(agg_, stats, {}, cfg_.placement.get()) +
                        drift_.prometheus() + (affinity_ ? affinity_->prometheus() : "") +
                        (diffs_ ? diffs_->prometheus() : "") +
                        prometheus_last_commit(last_commit_seconds_));
                    metrics_rendered_at_ = now;
                }
                return metrics_text_;
            },
            cfg_.stream.security);
        ListenSpec bound = spec;
        bound.port = metrics_->port();
        const auto& sec = cfg_.stream.security;
        const std::string url =
            (sec.tls ? "https://" : "http://") + bound.name().substr(6) + "/metrics";
        if (addr.is_loopback())
            spdlog::info("metrics on {} (loopback only{})", url,
                         sec.any() ? "; " + sec.describe() : "");
        else if (sec.any())
            spdlog::info("metrics on {} ({})", url, sec.describe());
        else
            spdlog::warn("metrics on {}: NOT loopback, anyone who can reach it can read them", url);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot serve metrics on " + spec.name() + ": " +
                                 e.code().message());
    }
}

SourceStats Daemon::take_stored(const std::string& name) {
    for (auto it = stored_sources_.begin(); it != stored_sources_.end(); ++it) {
        if (it->name != name) continue;
        SourceStats s = std::move(*it);
        stored_sources_.erase(it);
        return s;
    }
    SourceStats s;
    s.name = name;
    return s;
}

void Daemon::add_listener(const ListenSpec& spec) {
    namespace ip = boost::asio::ip;
    SourceStats s = take_stored(spec.name());
    s.tag = spec.tag;
    try {
        if (spec.kind == ListenSpec::Kind::unix_socket) {
            auto file = std::make_unique<UnixSocketFile>(spec.path);
            s.kind = "unix";
            auto l = std::make_unique<UnixListener>(
                io_, boost::asio::local::stream_protocol::endpoint(spec.path), std::move(s), agg_,
                cfg_.stream, &acked_);
            file->restrict_mode();
            spdlog::info("listening on {} (mode 0660{})", spec.name(),
                         cfg_.stream.security.tokens ? "; token required" : "");
            socket_files_.push_back(std::move(file));
            sources_.push_back(std::move(l));
            return;
        }
        const ip::address addr = ip::make_address(spec.host);
        s.kind = "tcp";
        auto l = std::make_unique<TcpListener>(io_, ip::tcp::endpoint(addr, spec.port),
                                               std::move(s), agg_, cfg_.stream, &acked_);
        // With port 0 the kernel picks one: name the source by the real port.
        ListenSpec bound = spec;
        bound.port = l->local_endpoint().port();
        l->stats().name = bound.name();
        const auto& sec = cfg_.stream.security;
        if (addr.is_loopback())
            spdlog::info("listening on {} (loopback only{})", bound.name(),
                         sec.any() ? "; " + sec.describe() : "");
        else if (sec.any())
            spdlog::info("listening on {} ({})", bound.name(), sec.describe());
        else
            spdlog::warn(
                "listening on {}: NOT loopback, anyone who can reach this address can send records",
                bound.name());
        sources_.push_back(std::move(l));
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot listen on " + spec.name() + ": " + e.code().message());
    }
}

Daemon::~Daemon() = default;

std::vector<SourceStats*> Daemon::all_stats() {
    std::vector<SourceStats*> out;
    for (auto& s : sources_)
        out.push_back(&s->stats());
    return out;
}

std::string Daemon::try_flush() {
    if (std::string why = database_replaced(); !why.empty()) return why;
    for (auto& s : sources_)
        s->checkpoint();
    const std::vector<StreamPosition> positions = acked_.take_positions();
    try {
        const auto stats = all_stats();
        live_caches_.advance(agg_);  // the writer thread is idle here
        if (diffs_) diffs_->publish();
        store_.save(agg_, stats, false, positions);
        last_commit_seconds_ = wall_clock_seconds();
        for (SourceStats* s : stats)
            note_committed(s->name, s->records);
        acked_.committed(positions);
        return "";
    } catch (const std::exception& e) {
        acked_.failed(positions);
        return e.what();
    }
}

void Daemon::note_committed(const std::string& source, uint64_t records) {
    committed_records_[source] = records;
}

uint64_t Daemon::uncommitted_records() {
    uint64_t n = 0;
    for (SourceStats* s : all_stats())
        n += s->records - std::min(s->records, committed_records_[s->name]);
    return n;
}

// The path must still name the file opened at start (lock_fd_ is that file): after `rm` or
// `mv other.db` the daemon would write to an unlinked inode, or leave its WAL beside a
// different database (see docs/ARCHITECTURE.md, storage).
std::string Daemon::database_replaced() const {
    struct stat open_st {
    }, path_st{};
    if (::fstat(lock_fd_.get(), &open_st) != 0) return "";
    if (::stat(cfg_.db_path.c_str(), &path_st) != 0)
        return errno == ENOENT ? cfg_.db_path + " was deleted while moescoped was running" : "";
    if (path_st.st_dev != open_st.st_dev || path_st.st_ino != open_st.st_ino)
        return cfg_.db_path + " was replaced by another file while moescoped was running";
    return "";
}

void Daemon::stop_on_replaced_database(const std::string& why) {
    if (database_lost_) return;
    database_lost_ = stopping_ = true;
    exit_code_ = 1;
    spdlog::error(
        "{}; stopping without writing to it: {} records received since the last commit were "
        "not committed (restart moescoped to use the file now at that path)",
        why, uncommitted_records());
    for (auto& s : sources_)
        s->stop();
    if (metrics_) metrics_->stop();
    flush_timer_.cancel();
    shutdown_timer_.cancel();
    if (!write_in_flight_) io_.stop();  // else write_done() stops
}

void Daemon::schedule_flush() {
    flush_timer_.expires_after(std::chrono::milliseconds(cfg_.flush_ms));
    flush_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;  // a tick already due at SIGTERM: the final commit follows
        reject_log_.check(all_stats(), std::chrono::steady_clock::now());
        flush_in_background();
        schedule_flush();
    });
}

// What changed (aggregates, and every source's counters, offset and stream state, taken in
// the same loop turn so they stay consistent) is copied and written by the writer thread;
// the loop goes on reading. A slow or locked database therefore delays commits, never
// ingestion. One write at a time: a tick during a write is skipped (changes accumulate).
void Daemon::flush_in_background() {
    if (write_in_flight_ || database_lost_) return;
    if (std::string why = database_replaced(); !why.empty()) return stop_on_replaced_database(why);
    for (auto& s : sources_)
        s->checkpoint();
    if (diffs_) diffs_->publish();
    auto changes = std::shared_ptr<Aggregates>(agg_.take_changes());
    drift_.observe(*changes, agg_, wall_clock_seconds());
    auto sources = std::make_shared<std::vector<SourceStats>>();
    for (SourceStats* s : all_stats()) {
        if (!s->dirty) continue;
        sources->push_back(*s);
        s->dirty = false;
    }
    auto positions = std::make_shared<std::vector<StreamPosition>>(acked_.take_positions());
    write_in_flight_ = true;
    write_guard_.emplace(io_.get_executor());
    boost::asio::post(writer_, [this, changes, sources, positions] {
        std::string error = database_replaced();  // checked again right before writing
        if (error.empty()) try {
                std::vector<SourceStats*> ptrs;
                for (auto& s : *sources)
                    ptrs.push_back(&s);
                live_caches_.advance(*changes);  // only this thread touches live_caches_
                store_.save(*changes, ptrs, false, *positions);
            } catch (const std::exception& e) {
                error = e.what();
            }
        boost::asio::post(io_, [this, changes, sources, positions, error] {
            write_done(*changes, *sources, *positions, error);
        });
    });
}

void Daemon::write_done(const Aggregates& changes, const std::vector<SourceStats>& sources,
                        const std::vector<StreamPosition>& positions, const std::string& error) {
    write_in_flight_ = false;
    write_guard_.reset();
    // The caches ran whether or not the save worked: their counters are the gauges' now.
    LiveCaches::copy_counts(changes, agg_);
    if (error.empty()) {
        last_commit_seconds_ = wall_clock_seconds();
        for (const auto& w : sources)
            note_committed(w.name, w.records);
        acked_.committed(positions);  // acknowledges, and ends a pause
    } else {
        acked_.failed(positions);  // acknowledged streams wait for a commit
        if (!stopping_)
            spdlog::error("flush to {} failed: {} (will retry; nothing committed is lost)",
                          cfg_.db_path, error);
        else
            spdlog::warn("flush to {} failed: {}; retrying until the shutdown deadline",
                         cfg_.db_path, error);
        agg_.restore_changes(changes);
        drift_.write_failed(changes);
        for (SourceStats* s : all_stats())
            for (const auto& w : sources)
                if (w.name == s->name) s->dirty = true;
        if (std::string why = database_replaced(); !why.empty()) stop_on_replaced_database(why);
    }
    if (database_lost_)
        io_.stop();
    else if (stopping_)
        boost::asio::post(io_, [this] { finish_shutdown(); });  // after the listeners' last reads
}

void Daemon::wait_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            for (auto& s : sources_)
                s->reopen();
            wait_signals();
            return;
        }
        shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    });
}

void Daemon::shutdown(const char* why) {
    if (stopping_) return;
    stopping_ = true;
    spdlog::info("{}: flushing and exiting", why);
    for (auto& s : sources_)
        s->stop();
    if (metrics_) metrics_->stop();
    flush_timer_.cancel();
    shutdown_deadline_ =
        std::chrono::steady_clock::now() + std::chrono::seconds(cfg_.shutdown_timeout_s);
    // Posted: the listeners' last reads (Listener::stop) are queued before it.
    if (!write_in_flight_) return boost::asio::post(io_, [this] { finish_shutdown(); });
    // write_done() finishes; a write still running at the deadline (a slow disk) is
    // interrupted, which SQLite allows from another thread.
    spdlog::info("waiting for the running write to {} (up to {} s)", cfg_.db_path,
                 cfg_.shutdown_timeout_s);
    shutdown_timer_.expires_at(shutdown_deadline_);
    shutdown_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !write_in_flight_) return;
        spdlog::warn("the running write to {} did not finish within {} s; interrupting it",
                     cfg_.db_path, cfg_.shutdown_timeout_s);
        sqlite3_interrupt(store_.db().handle());
    });
}

// The last changes, synchronously, retried while the database is locked (another process
// holding the write lock) until the deadline; the exit code and the last log line say
// truly whether everything was committed.
void Daemon::finish_shutdown() {
    shutdown_timer_.cancel();
    using clock = std::chrono::steady_clock;
    // What the sources' last reads decided (a stream's end settles its strided-view verdict,
    // a short input never saw a flush tick) is logged as every tick's is.
    reject_log_.check(all_stats(), clock::now());
    std::string error = try_flush();
    bool waited = false;
    while (!error.empty() && database_replaced().empty() && clock::now() < shutdown_deadline_) {
        if (!waited)
            spdlog::warn("final commit to {} failed: {}; waiting and retrying for up to {} s",
                         cfg_.db_path, error, cfg_.shutdown_timeout_s);
        waited = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        error = try_flush();
    }
    if (error.empty()) {
        if (waited) spdlog::info("final commit to {} done", cfg_.db_path);
        exit_code_ = 0;
    } else {
        exit_code_ = 1;
        spdlog::error(
            "exiting without the final commit to {}: {}; {} records received since the "
            "last commit were not committed",
            cfg_.db_path, error, uncommitted_records());
    }
    io_.stop();
}

int Daemon::run() {
    spdlog::info("moescoped: database {}, {} source(s), flush every {} ms", cfg_.db_path,
                 sources_.size(), cfg_.flush_ms);
    reject_log_.baseline(all_stats(), std::chrono::steady_clock::now());
    for (auto& s : sources_)
        s->start();
    if (metrics_) metrics_->start();
    schedule_flush();
    wait_signals();
    io_.run();
    return exit_code_;
}

}  // namespace moe
