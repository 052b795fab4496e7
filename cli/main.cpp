// moescope: query a moescoped database, or analyze log files directly.
#include <cstdio>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include "cli/analyze.hpp"
#include "cli/commands.hpp"
#include "storage/store.hpp"

using namespace moe;

namespace {

struct Args {
    std::string db = "moescope.db";
    QueryOptions q;
    bool json = false, csv = false;
    int32_t layer = -1;
    std::string gate_tokens = "all";
    // analyze
    std::vector<std::string> files;
    std::string format = "auto";
    double ema_decay = 0.99999;
    uint32_t num_experts = 0;
    size_t max_line = LineSplitter::kDefaultMaxLine;
};

void add_output_options(CLI::App* app, Args& a) {
    auto* j = app->add_flag("--json", a.json, "Print one JSON object (keys as in README)");
    auto* c = app->add_flag("--csv", a.csv, "Print CSV");
    j->excludes(c);
    app->add_option("--tag", a.q.tag, "Report on this tag (default: all)");
}

void add_layer_option(CLI::App* app, Args& a, const char* help) {
    app->add_option("--layer", a.layer, help)->check(CLI::Range(0, kMaxLayer));
}

void add_gate_tokens_option(CLI::App* app, Args& a) {
    app->add_option(
           "--gate-tokens", a.gate_tokens,
           "Gate pairs over 'all' tokens or only token 0 ('first', the reference script's view)")
        ->check(CLI::IsMember({"all", "first"}));
}

int fail(const std::string& msg, int code = 1) {
    std::fprintf(stderr, "moescope: %s\n", msg.c_str());
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "moescope: see how Mixture-of-Experts models route tokens to experts.\n"
        "Queries a database written by moescoped, or analyzes log files directly."};
    app.require_subcommand(1);
    app.fallthrough();
    Args a;
    app.add_option("--db", a.db, "Database written by moescoped")->envname("MOESCOPE_DB");

    std::map<CLI::App*, Command> commands;
    auto* analyze =
        app.add_subcommand("analyze", "Analyze log files (no daemon): every section at once");
    analyze->add_option("files", a.files, "Log files (FILE or FILE=TAG; - for stdin)")->required();
    analyze->add_option("--format", a.format, "Input format")
        ->check(CLI::IsMember({"auto", "llama-csv", "ndjson", "eval-callback"}));
    analyze->add_option("--ema-decay", a.ema_decay, "EMA decay d per record")
        ->check(CLI::Range(0.0, 1.0));
    analyze
        ->add_option("--num-experts", a.num_experts,
                     "Experts per layer (default: from meta, else max id + 1)")
        ->check(CLI::Range(1, kMaxExpert + 1));
    analyze->add_option("--max-line-bytes", a.max_line, "Longer lines are rejected")
        ->check(CLI::Range(64, 1 << 30));
    add_output_options(analyze, a);
    add_layer_option(analyze, a, "Only this layer");
    add_gate_tokens_option(analyze, a);
    analyze->add_flag("--brief", a.q.brief, "One row per layer instead of a block");
    commands[analyze] = Command::analyze;

    auto* layers = app.add_subcommand("layers", "Per-layer hits and imbalance figures");
    add_output_options(layers, a);
    add_layer_option(layers, a, "Only this layer");
    layers->add_flag("--brief", a.q.brief, "One row per layer instead of a block");
    layers->add_option("--top", a.q.top, "Experts listed as most frequent")
        ->check(CLI::Range(0, 1 << 20));
    layers->add_option("--bottom", a.q.bottom, "Experts listed as least frequent")
        ->check(CLI::Range(0, 1 << 20));
    commands[layers] = Command::layers;

    auto* experts = app.add_subcommand(
        "experts", "Experts of one layer (or all layers combined), ranked by hits");
    add_output_options(experts, a);
    add_layer_option(experts, a, "Layer (default: all layers combined)");
    experts->add_option("--top", a.q.top, "Busiest experts to list")->check(CLI::Range(0, 1 << 20));
    experts->add_option("--bottom", a.q.bottom, "Least busy experts to list")
        ->check(CLI::Range(0, 1 << 20));
    commands[experts] = Command::experts;

    auto* gates =
        app.add_subcommand("gates", "Gate-input distances between consecutive logged layers");
    add_output_options(gates, a);
    add_layer_option(gates, a, "Only pairs involving this layer");
    add_gate_tokens_option(gates, a);
    commands[gates] = Command::gates;

    auto* tags = app.add_subcommand("tags", "Tags with their record counts");
    add_output_options(tags, a);
    commands[tags] = Command::tags;

    auto* sources =
        app.add_subcommand("sources", "Ingest health per source: bytes, records, rejects, lag");
    add_output_options(sources, a);
    commands[sources] = Command::sources;

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail(std::string(e.what()) + " (see moescope --help)", 2);
    }

    Command cmd{};
    for (const auto& [sub, c] : commands)
        if (sub->parsed()) cmd = c;
    a.q.format = a.json ? OutputFormat::json : a.csv ? OutputFormat::csv : OutputFormat::table;
    if (a.layer >= 0) a.q.layer = a.layer;
    a.q.gate_tokens = a.gate_tokens == "first" ? GateTokens::first : GateTokens::all;

    try {
        std::vector<SourceStats> src;
        AnalyticsOptions opts;
        opts.ema_decay = a.ema_decay;
        opts.num_experts = a.num_experts;
        Aggregates agg(opts);
        if (cmd == Command::analyze) {
            std::vector<AnalyzeInput> inputs;
            for (const auto& f : a.files)
                inputs.push_back(parse_input_spec(f));
            src = analyze_files(inputs, *parse_format(a.format), agg, a.max_line);
        } else {
            Store store = Store::open_read_only(a.db);
            store.load(agg);
            src = store.load_sources();
        }
        std::fputs(render(cmd, agg, src, a.q).c_str(), stdout);
    } catch (const std::invalid_argument& e) {
        return fail(e.what(), 2);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return 0;
}
