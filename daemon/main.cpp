// moescoped: follows MoE routing logs and keeps their statistics in SQLite.
#include <cstdio>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "daemon/daemon.hpp"

using namespace moe;

int main(int argc, char** argv) {
    CLI::App app{
        "moescoped: follow MoE routing logs and keep their statistics in SQLite.\n"
        "Runs in the foreground; SIGTERM/SIGINT flush and exit 0, SIGHUP reopens files."};
    DaemonConfig cfg;
    std::vector<std::string> follows;
    std::string format = "auto", log_level = "info";
    app.add_option("--db", cfg.db_path, "SQLite database to write (created if missing)")
        ->required();
    app.add_option("--follow", follows,
                   "Log file to follow like tail -F (FILE or FILE=TAG); repeatable");
    app.add_option("--format", format, "Input format of followed files")
        ->check(CLI::IsMember({"auto", "llama-csv", "ndjson", "eval-callback"}));
    app.add_option("--flush-ms", cfg.flush_ms, "Commit interval in milliseconds")
        ->check(CLI::Range(10, 3600000));
    app.add_option("--poll-ms", cfg.follow.poll_ms, "File polling interval in milliseconds")
        ->check(CLI::Range(1, 60000));
    app.add_option("--ema-decay", cfg.analytics.ema_decay, "EMA decay d per record")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--num-experts", cfg.analytics.num_experts,
                   "Experts per layer (default: from meta, else max id + 1)")
        ->check(CLI::Range(1, kMaxExpert + 1));
    app.add_option("--max-line-bytes", cfg.follow.max_line, "Longer lines are rejected")
        ->check(CLI::Range(64, 1 << 30));
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "moescoped: %s (see moescoped --help)\n", e.what());
        return 2;
    }

    spdlog::set_default_logger(spdlog::stderr_color_mt("moescoped"));
    spdlog::set_level(spdlog::level::from_str(log_level));
    cfg.follow.format = *parse_format(format);
    for (const auto& f : follows) {
        const auto eq = f.rfind('=');
        cfg.follows.push_back(eq == std::string::npos
                                  ? FollowSpec{f, ""}
                                  : FollowSpec{f.substr(0, eq), f.substr(eq + 1)});
    }
    if (cfg.follows.empty()) {
        std::fprintf(
            stderr,
            "moescoped: nothing to do: give at least one --follow FILE (see moescoped --help)\n");
        return 2;
    }
    try {
        Daemon d(cfg);
        return d.run();
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
}
