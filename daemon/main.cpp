// moescoped: follows MoE routing logs and receives routing records over sockets and stdin,
// and keeps their statistics in SQLite.
#include <cstdio>
#include <fstream>
#include <iterator>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "daemon/daemon.hpp"
#include "moescope_version.hpp"  // generated from options/moescope_version.hpp.in (CMakeLists.txt)
#include "options/analysis_flags.hpp"
#include "options/capacity_list.hpp"

using namespace moe;

namespace {
constexpr size_t kMaxLiveCaches = 8;

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "moescoped: %s (see moescoped --help)\n", msg.c_str());
    return 2;
}

// Loads --tls-* and --auth-token-file into cfg.stream.security; "" or one line saying why not.
std::string remote_access(const TlsFiles& tls, const std::string& token_file, DaemonConfig& cfg) {
    if (tls.cert.empty() != tls.key.empty()) return "--tls-cert and --tls-key go together";
    if (!tls.client_ca.empty() && tls.cert.empty())
        return "--tls-client-ca needs --tls-cert and --tls-key";
    try {
        NetSecurity& sec = cfg.stream.security;
        if (!tls.cert.empty()) sec.tls = make_server_tls(tls);
        sec.client_certs = !tls.client_ca.empty();
        if (!token_file.empty())
            sec.tokens = std::make_shared<const AuthTokens>(AuthTokens::load(token_file));
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
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
    app.set_version_flag("--version", std::string("moescoped ") + kVersion);
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
    double rollup_hour_h = 24, rollup_day_d = 30;  // docs/SCHEMA.md "Roll-ups"
    app.add_option("--rollup-hour-after-h", rollup_hour_h,
                   "Add timeline buckets older than this many hours into hour buckets; 0: never")
        ->check(CLI::Range(0.0, 24.0 * 365 * 100));
    app.add_option("--rollup-day-after-d", rollup_day_d,
                   "Add timeline buckets older than this many days into day buckets; 0: never")
        ->check(CLI::Range(0.0, 365.0 * 100));
    uint64_t memory_mb = 2048;
    app.add_option("--max-memory-mb", memory_mb,
                   "Budget for per-layer statistics; records needing more are rejected")
        ->check(CLI::Range(16, 1 << 24));
    std::string metrics, cache_capacity, placement;
    size_t placement_gpus = 0;
    analysis.add_to(app);
    analysis.add_threads_to(app);
    app.add_option("--cache-capacity", cache_capacity,
                   "Simulate per-layer lru and lfu expert caches of C slots live: C[,C2,...] "
                   "(moescope cache, Prometheus moescope_cache_*)");
    app.add_option("--placement", placement,
                   "Watch this deployed placement (physical -> logical map JSON, as for "
                   "moescope place --current): its per-GPU balance as Prometheus gauges");
    app.add_option("--placement-gpus", placement_gpus,
                   "GPUs of --placement (default: its \"gpus\" key, as place --json writes)")
        ->check(CLI::Range(size_t{1}, size_t{1} << 16));
    app.add_option("--metrics", metrics,
                   "Serve Prometheus /metrics and /healthz on HOST:PORT (:PORT = 127.0.0.1)");
    // Remote access (docs/ARCHITECTURE.md "Remote access", docs/GUARANTEES.md).
    TlsFiles tls;
    std::string token_file;
    bool allow_insecure_remote = false;
    app.add_option("--tls-cert", tls.cert,
                   "PEM certificate (chain): TCP listeners and /metrics speak TLS")
        ->group("Remote access");
    app.add_option("--tls-key", tls.key, "PEM private key of --tls-cert")->group("Remote access");
    app.add_option("--tls-client-ca", tls.client_ca,
                   "PEM CA: TLS clients must present a certificate it signed (mutual TLS)")
        ->group("Remote access");
    app.add_option("--auth-token-file", token_file,
                   "Tokens, one a line: listeners need a first line {\"type\": \"auth\", "
                   "\"token\": ...}, /metrics and /healthz `Authorization: Bearer TOKEN`")
        ->group("Remote access");
    app.add_flag("--allow-insecure-remote", allow_insecure_remote,
                 "Allow a non-loopback --listen/--metrics without TLS or a token")
        ->group("Remote access");
    // Live drift (daemon/drift_monitor.hpp, docs/OPERATIONS.md "Drift alerts").
    std::string drift_window = "10m";
    app.add_option("--drift-baseline", cfg.drift.baseline,
                   "Compare each closed window of every other tag with this tag's totals");
    app.add_option("--drift-window", drift_window, "Width of the drift windows (90s, 10m, 1h)");
    app.add_option("--drift-alert", cfg.drift.alert_js,
                   "Log a warning when a window's JS divergence (bits) exceeds this; 0: never")
        ->check(CLI::Range(0.0, 1.0));
    auto* drift_kde =
        app.add_option("--drift-kde", cfg.drift.kde_db,
                       "Also test each closed window against the baseline's KDE fit stored in "
                       "this database (moescope kde --fit TAG FILE... --db DB): KS gauges")
            ->check(CLI::ExistingFile);
    app.add_option("--drift-kde-value", cfg.drift.kde_value,
                   "Which stored fit of the baseline (top1_weight, trim2_logits, ...) when it "
                   "has several")
        ->needs(drift_kde);
    // Following tokens live (daemon/live_affinity.hpp, daemon/live_diff.hpp).
    std::vector<std::string> diffs;
    app.add_flag("--affinity", cfg.affinity,
                 "Keep layer-to-layer transitions live (affinity --db, gauges)")
        ->group("Following tokens");
    app.add_option("--affinity-window", cfg.affinity_window,
                   "Records per tag waiting for their token's next layer")
        ->check(CLI::Range(size_t{1}, size_t{1} << 26))
        ->group("Following tokens");
    app.add_option("--diff", diffs,
                   "Diff tag A with tag B live by request and token: A:B (diff --db)")
        ->group("Following tokens");
    app.add_option("--diff-window", cfg.diff_window,
                   "Records per --diff waiting for a partner; more count as evicted")
        ->check(CLI::Range(size_t{1}, size_t{1} << 26))
        ->group("Following tokens");
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

    for (const auto& d : diffs) {
        const auto pair = parse_diff_pair(d);
        if (!pair) return usage_error("--diff " + d + ": expected A:B, two different tags");
        cfg.diffs.push_back(*pair);
    }
    if (app.count("--affinity-window") && !cfg.affinity)
        return usage_error("--affinity-window applies to --affinity");
    if (app.count("--diff-window") && cfg.diffs.empty())
        return usage_error("--diff-window applies to --diff A:B");
    if (!cfg.drift.kde_db.empty() && cfg.drift.baseline.empty())
        return usage_error("--drift-kde tests against the --drift-baseline tag's fit: give both");
    if (const auto w = parse_duration(drift_window))
        cfg.drift.window_seconds = *w;
    else
        return usage_error("--drift-window " + drift_window + ": expected 90s, 10m, 1h or 1d");
    cfg.analytics = analysis.resolved_analytics();
    cfg.analytics.refuse_engine_totals = true;  // snapshots: `moescope import` them
    try {
        cfg.follow.format = cfg.stream.format = analysis.resolved_format();
    } catch (const std::invalid_argument& e) {
        return usage_error(e.what());
    }
    cfg.follow.max_line = cfg.stream.max_line = analysis.max_line;
    cfg.follow.replay.threads = analysis.resolved_threads();
    cfg.retention_seconds = static_cast<int64_t>(retention_h * 3600);
    cfg.rollup = {static_cast<int64_t>(rollup_hour_h * 3600),
                  static_cast<int64_t>(rollup_day_d * 86400)};
    cfg.analytics.memory_budget = memory_mb << 20;
    if (!cache_capacity.empty()) {
        try {
            const auto caps = parse_capacity_list(cache_capacity, "--cache-capacity");
            if (caps.size() > kMaxLiveCaches)
                return usage_error("--cache-capacity: at most " + std::to_string(kMaxLiveCaches) +
                                   " capacities (each costs every selection a cache access)");
            for (uint32_t c : caps)
                for (OnlinePolicy p : {OnlinePolicy::lru, OnlinePolicy::lfu})
                    cfg.analytics.caches.push_back({p, c});
        } catch (const std::invalid_argument& e) {
            return usage_error(e.what());
        }
    }
    if (!placement.empty()) {
        std::ifstream in(placement, std::ios::binary);
        if (!in) return usage_error("--placement " + placement + ": cannot read the file");
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        try {
            auto w =
                std::make_shared<WatchedPlacement>(WatchedPlacement{PlacementMap::parse(text)});
            w->gpus = placement_gpus ? placement_gpus : w->map.gpus().value_or(0);
            if (w->gpus == 0)
                return usage_error("--placement " + placement +
                                   ": give --placement-gpus G (the file does not state its GPUs)");
            cfg.placement = std::move(w);
        } catch (const std::invalid_argument& e) {
            return usage_error("--placement " + placement + ": " + e.what());
        }
    } else if (placement_gpus) {
        return usage_error("--placement-gpus needs --placement FILE");
    }
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
    if (std::string err = remote_access(tls, token_file, cfg); !err.empty())
        return usage_error(err);
    const std::string exposed = exposed_address(cfg.listens, cfg.metrics, cfg.stream.security);
    if (!exposed.empty() && !allow_insecure_remote) return usage_error(exposed);

    spdlog::set_default_logger(spdlog::stderr_color_mt("moescoped"));
    spdlog::set_level(spdlog::level::from_str(log_level));
    if (!token_file.empty())
        if (const std::string w = token_file_warning(token_file); !w.empty()) spdlog::warn("{}", w);
    if (!exposed.empty() && cfg.stream.security.tokens)  // without a token the listeners warn
        spdlog::warn("allowed by --allow-insecure-remote: {}", exposed);
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
