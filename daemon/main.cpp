// moescoped: follows MoE routing logs and receives routing records over sockets and stdin,
// and keeps their statistics in SQLite.
#include <cstdio>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "daemon/daemon.hpp"
#include "options/analysis_flags.hpp"

using namespace moe;

namespace {
int usage_error(const std::string& msg) {
    std::fprintf(stderr, "moescoped: %s (see moescoped --help)\n", msg.c_str());
    return 2;
}

std::pair<std::string, std::string> split_tag(const std::string& spec) {
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos) return {spec, ""};
    return {spec.substr(0, eq), spec.substr(eq + 1)};
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "moescoped: follow MoE routing logs, receive routing records over TCP, Unix sockets\n"
        "and stdin, and keep their statistics in SQLite. Runs in the foreground;\n"
        "SIGTERM/SIGINT flush and exit 0, SIGHUP reopens files."};
    DaemonConfig cfg;
    std::vector<std::string> follows, listens;
    std::string log_level = "info";
    AnalysisFlags analysis;
    app.set_version_flag("--version", std::string("moescoped ") + MOESCOPE_VERSION);
    app.option_defaults()->always_capture_default();
    app.add_option("--db", cfg.db_path, "SQLite database to write (created if missing)")
        ->required();
    app.add_option("--follow", follows,
                   "Log file to follow like tail -F (FILE or FILE=TAG); repeatable");
    app.add_option("--listen", listens,
                   "Accept records on tcp://HOST:PORT (tcp://:PORT means 127.0.0.1) or unix:PATH, "
                   "optionally followed by =TAG; repeatable");
    app.add_flag("--stdin", cfg.read_stdin,
                 "Read records from standard input (exit at its end if it is the only source)");
    app.add_flag("--reset", cfg.reset,
                 "Discard the aggregates and offsets stored in --db and start over (needed to "
                 "change --ema-decay, --bucket-s or --num-experts of an existing database)");
    app.add_option("--stdin-tag", cfg.stdin_tag, "Tag for records read from standard input");
    app.add_option("--flush-ms", cfg.flush_ms, "Commit interval in milliseconds")
        ->check(CLI::Range(10, 3600000));
    app.add_option("--shutdown-timeout-s", cfg.shutdown_timeout_s,
                   "On SIGTERM, wait this long for a locked or slow database (default 30)")
        ->check(CLI::Range(0, 86400));
    app.add_option("--reject-summary-s", cfg.reject_summary_s,
                   "Log rejected lines per source at most this often (default 60)")
        ->check(CLI::Range(1, 86400));
    app.add_option("--poll-ms", cfg.follow.poll_ms, "File polling interval in milliseconds")
        ->check(CLI::Range(1, 60000));
    app.add_option("--max-connections", cfg.stream.max_connections, "Open connections per listener")
        ->check(CLI::Range(1, 100000));
    app.add_option("--idle-timeout-s", cfg.stream.idle_timeout_s,
                   "Close connections silent this long; 0: never")
        ->check(CLI::Range(0, 86400 * 365));
    double retention_h = 168;
    app.add_option("--retention-h", retention_h,
                   "Delete timeline buckets older than this many hours; 0 keeps all")
        ->check(CLI::Range(0.0, 24.0 * 365 * 100));
    uint64_t memory_mb = 2048;
    app.add_option("--max-memory-mb", memory_mb,
                   "Budget for per-layer statistics; records needing more are rejected")
        ->check(CLI::Range(16, 1 << 24));
    std::string metrics;
    analysis.add_to(app);
    app.add_option("--metrics", metrics,
                   "Serve Prometheus /metrics and /healthz on HOST:PORT (:PORT = 127.0.0.1)");
    // Live drift (daemon/drift_monitor.hpp, README "Drift alerts").
    std::string drift_window = "10m";
    app.add_option("--drift-baseline", cfg.drift.baseline,
                   "Compare each closed window of every other tag with this tag's totals");
    app.add_option("--drift-window", drift_window, "Width of the drift windows (90s, 10m, 1h)");
    app.add_option("--drift-alert", cfg.drift.alert_js,
                   "Log a warning when a window's JS divergence (bits) exceeds this; 0: never")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage_error(e.what());
    }

    if (const auto w = parse_duration(drift_window))
        cfg.drift.window_seconds = *w;
    else
        return usage_error("--drift-window " + drift_window + ": expected 90s, 10m, 1h or 1d");
    cfg.analytics = analysis.resolved_analytics();
    cfg.follow.format = cfg.stream.format = analysis.resolved_format();
    cfg.follow.max_line = cfg.stream.max_line = analysis.max_line;
    cfg.retention_seconds = static_cast<int64_t>(retention_h * 3600);
    cfg.analytics.memory_budget = memory_mb << 20;
    for (const auto& f : follows) {
        auto [path, tag] = split_tag(f);
        if (std::string why = not_followable(path); !why.empty()) return usage_error(why);
        cfg.follows.push_back({path, tag});
    }
    for (const auto& l : listens) {
        std::string err;
        auto spec = parse_listen_spec(l, err);
        if (!spec) return usage_error(err);
        cfg.listens.push_back(*spec);
    }
    if (!metrics.empty()) {
        std::string err;
        auto spec = parse_listen_spec("tcp://" + metrics, err);
        if (!spec) return usage_error("--metrics " + metrics + ": " + err);
        cfg.metrics = spec;
    }
    if (cfg.follows.empty() && cfg.listens.empty() && !cfg.read_stdin)
        return usage_error("nothing to do: give --follow FILE, --listen ADDRESS or --stdin");

    spdlog::set_default_logger(spdlog::stderr_color_mt("moescoped"));
    spdlog::set_level(spdlog::level::from_str(log_level));
    try {
        Daemon d(cfg);
        return d.run();
    } catch (const IncompatibleFacts& e) {
        std::fprintf(stderr, "moescoped: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
}
