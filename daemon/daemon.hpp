// moescoped's event loop: sources feed the aggregates; every flush interval the aggregates
// and source offsets are committed to SQLite in one transaction; SIGTERM/SIGINT flush and
// exit, SIGHUP reopens files.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "analytics/aggregates.hpp"
#include "analytics/live_caches.hpp"
#include "analytics/wall_clock.hpp"
#include "daemon/acked_streams.hpp"
#include "daemon/drift_monitor.hpp"
#include "daemon/file_follower.hpp"
#include "daemon/listen_spec.hpp"
#include "daemon/listener.hpp"
#include "daemon/live_affinity.hpp"
#include "daemon/live_diff.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/prometheus_text.hpp"
#include "daemon/reject_log.hpp"
#include "daemon/source.hpp"
#include "daemon/unix_socket_file.hpp"
#include "models/unique_fd.hpp"
#include "storage/store.hpp"

namespace moe {

struct FollowSpec {
    std::string path;
    std::string tag;
};

struct DaemonConfig {
    std::string db_path;
    std::vector<FollowSpec> follows;
    std::vector<ListenSpec> listens;
    bool read_stdin = false;
    bool reset = false;  // discard what db_path holds (a run with other model facts)
    std::string stdin_tag;
    AnalyticsOptions analytics;
    FollowOptions follow;
    StreamOptions stream;
    int flush_ms = 500;
    int64_t retention_seconds = 168 * 3600;  // timeline buckets older than this are deleted
    Store::Rollup rollup;  // old timeline buckets become hour, then day buckets (0: never)
    std::optional<ListenSpec> metrics;  // Prometheus endpoint (tcp only)
    // On SIGTERM, how long the running write and the final commit may take (a locked
    // database is retried until then); what is still uncommitted after it is reported.
    int shutdown_timeout_s = 30;
    int reject_summary_s = 60;  // at most one reject summary line per source this often
    DriftConfig drift;          // --drift-baseline etc. (daemon/drift_monitor.hpp)
    std::shared_ptr<const WatchedPlacement> placement;  // --placement: live balance gauges
    // Following tokens (docs/OPERATIONS.md "Following tokens live"): --affinity keeps the
    // layer-to-layer transitions, --diff A:B the routing diff of two tags.
    bool affinity = false;
    size_t affinity_window = LiveAffinity::kDefaultWindow;
    std::vector<DiffPairSpec> diffs;
    size_t diff_window = LiveDiffs::kDefaultWindow;
};

class Daemon {
  public:
    // Opens (or creates) the database and restores the aggregates and offsets it holds.
    // Throws IncompatibleFacts when its model facts differ from the options, StorageError
    // or std::runtime_error, with a message for the user.
    explicit Daemon(DaemonConfig cfg);
    ~Daemon();

    // Runs until SIGTERM or SIGINT; returns the process exit code.
    int run();
    // Flushes and makes run() return `code` (what SIGTERM does).
    void shutdown(const char* why);

  private:
    void schedule_flush();
    void flush_in_background();
    void write_done(const Aggregates& changes, const std::vector<SourceStats>& sources,
                    const std::vector<StreamPosition>& positions, const std::string& error);
    void finish_shutdown();
    // Saves everything dirty on the loop thread; "" or the error.
    std::string try_flush();
    // "" while cfg_.db_path still names the file opened at start, else why not.
    std::string database_replaced() const;
    void stop_on_replaced_database(const std::string& why);
    uint64_t uncommitted_records();
    void note_committed(const std::string& source, uint64_t records);
    void wait_signals();
    std::vector<SourceStats*> all_stats();
    SourceStats take_stored(const std::string& name);
    void add_listener(const ListenSpec& spec);
    void start_metrics(const ListenSpec& spec);

    DaemonConfig cfg_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer flush_timer_;
    Store store_;
    UniqueFd lock_fd_;
    Aggregates agg_;
    AckedStreams acked_;  // before the listeners, which attach their connections to it
    std::vector<SourceStats> stored_sources_;  // from earlier runs, not (yet) configured
    std::vector<std::unique_ptr<UnixSocketFile>> socket_files_;  // outlive their listeners
    std::vector<std::unique_ptr<Source>> sources_;
    std::unique_ptr<MetricsServer> metrics_;
    std::shared_ptr<const std::string> metrics_text_;  // the last /metrics rendering
    std::chrono::steady_clock::time_point metrics_rendered_at_;
    RejectLog reject_log_;
    DriftMonitor drift_;
    std::unique_ptr<LiveAffinity> affinity_;  // --affinity; fed by the routing tap
    std::unique_ptr<LiveDiffs> diffs_;        // --diff; fed by the routing tap
    // The live caches' contents: advanced by the writer thread at every flush (and by the
    // final flush once the writer is idle), never by the loop.
    LiveCaches live_caches_;
    int exit_code_ = 0;
    bool stopping_ = false;
    bool write_in_flight_ = false;
    // Keeps io_.run() going while the writer thread works: with every source stopped (on
    // SIGTERM) the loop would otherwise run out of work and return before write_done().
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
        write_guard_;
    bool database_lost_ = false;  // deleted or replaced under us: never write again
    std::chrono::steady_clock::time_point shutdown_deadline_;
    boost::asio::steady_timer shutdown_timer_;
    std::map<std::string, uint64_t> committed_records_;  // per source, as last committed
    // Wall-clock seconds of the last successful commit (the start until then): /metrics'
    // moescope_last_commit_timestamp_seconds, so a stuck writer shows on a dashboard.
    double last_commit_seconds_ = wall_clock_seconds();
    // The writer thread; declared last so it is joined before anything it uses goes away.
    boost::asio::thread_pool writer_{1};
};

}  // namespace moe
