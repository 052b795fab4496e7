// moescope: query a moescoped database, or analyze log files directly.
#include <chrono>
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>

#include "cli/analyze.hpp"
#include "cli/commands.hpp"
#include "cli/html_report.hpp"
#include "cli/merge.hpp"
#include "cli/time_spec.hpp"
#include "storage/store.hpp"

using namespace moe;

namespace {

struct Args {
    std::string db = "moescope.db";
    QueryOptions q;
    bool json = false, csv = false;
    int32_t layer = -1, expert = -1;
    std::string gate_tokens = "all", by = "count", since, until;
    std::vector<int32_t> periodic;
    // analyze
    std::vector<std::string> files;
    std::string format = "auto", analytics_set = "full";
    // merge, report
    std::vector<std::string> merge_inputs;
    std::string merge_out, html;
    bool force = false;
    int32_t cooc_layer = -1;
    AnalyticsOptions analytics;
    size_t max_line = LineSplitter::kDefaultMaxLine;
};

// Options every query shares: output format, tag, time window.
void add_common(CLI::App* app, Args& a) {
    auto* j = app->add_flag("--json", a.json, "Print one JSON object (keys as in README)");
    auto* c = app->add_flag("--csv", a.csv, "Print CSV");
    j->excludes(c);
    app->add_option("--tag", a.q.tag, "Report on this tag (default: all)");
    app->add_option("--since", a.since,
                    "Only time buckets from this time (epoch s, ISO 8601 UTC, or -2h/-30m/-1d)");
    app->add_option("--until", a.until, "Only time buckets before this time (same forms)");
}

void add_layer(CLI::App* app, Args& a, const char* help) {
    app->add_option("--layer", a.layer, help)->check(CLI::Range(0, kMaxLayer));
}

void add_top(CLI::App* app, Args& a, const char* help, size_t def) {
    a.q.top = def;
    app->add_option("--top", a.q.top, help)->check(CLI::Range(0, 1 << 20));
}

void add_gate_tokens(CLI::App* app, Args& a) {
    app->add_option(
           "--gate-tokens", a.gate_tokens,
           "Gate pairs over 'all' tokens or only token 0 ('first', the reference script's view)")
        ->check(CLI::IsMember({"all", "first"}));
}

void add_corr_options(CLI::App* app, Args& a) {
    app->add_option("--delta-max", a.q.delta_max, "Largest layer distance (default 30)")
        ->check(CLI::Range(1, kMaxLayer));
    app->add_option("--periodic", a.periodic, "Deltas to summarise (default 12,24)")
        ->delimiter(',')
        ->check(CLI::Range(1, kMaxLayer));
}

int fail(const std::string& msg, int code = 1) {
    std::fprintf(stderr, "moescope: %s\n", msg.c_str());
    return code;
}

int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "moescope: see how Mixture-of-Experts models route tokens to experts.\n"
        "Queries a database written by moescoped, or analyzes log files directly."};
    app.require_subcommand(1);
    app.fallthrough();
    Args a;
    app.add_option("--db", a.db, "Database written by moescoped (default moescope.db)")
        ->envname("MOESCOPE_DB");
    std::map<CLI::App*, Command> commands;

    auto* analyze =
        app.add_subcommand("analyze", "Analyze log files (no daemon): every section at once");
    analyze->add_option("files", a.files, "Log files (FILE or FILE=TAG; - for stdin)")->required();
    analyze->add_option("--format", a.format, format_help())->check(CLI::IsMember(format_names()));
    analyze->add_option("--ema-decay", a.analytics.ema_decay, "EMA decay d per record")
        ->check(CLI::Range(0.0, 1.0));
    analyze
        ->add_option("--num-experts", a.analytics.num_experts,
                     "Experts per layer (default: from meta, else max id + 1)")
        ->check(CLI::Range(1, kMaxExpert + 1));
    analyze
        ->add_option("--bucket-s", a.analytics.bucket_seconds,
                     "Timeline bucket width in seconds (default 60)")
        ->check(CLI::Range(1, 86400 * 366));
    analyze
        ->add_option("--analytics", a.analytics_set,
                     "counts, standard (+ EMA, co-occurrence) or full (default)")
        ->check(CLI::IsMember({"counts", "standard", "full"}));
    analyze
        ->add_option("--max-tags", a.analytics.max_tags,
                     "Distinct tags kept; further ones count under all (default 256)")
        ->check(CLI::Range(1, 1 << 20));
    analyze->add_option("--max-line-bytes", a.max_line, "Longer lines are rejected (default 1 MiB)")
        ->check(CLI::Range(64, 1 << 30));
    add_common(analyze, a);
    add_layer(analyze, a, "Only this layer");
    add_gate_tokens(analyze, a);
    add_top(analyze, a, "Experts listed as most frequent, pairs per layer in cooc (default 10)",
            10);
    analyze->add_option("--bottom", a.q.bottom, "Experts listed as least frequent (default 5)")
        ->check(CLI::Range(0, 1 << 20));
    analyze->add_flag("--brief", a.q.brief, "One row per layer instead of a block");
    analyze->add_option("--vs", a.q.vs, "Also compare --tag with this tag");
    add_corr_options(analyze, a);
    commands[analyze] = Command::analyze;

    auto* layers = app.add_subcommand("layers", "Per-layer hits and imbalance figures");
    add_common(layers, a);
    add_layer(layers, a, "Only this layer");
    layers->add_flag("--brief", a.q.brief, "One row per layer instead of a block");
    add_top(layers, a, "Experts listed as most frequent (default 10)", 10);
    layers->add_option("--bottom", a.q.bottom, "Experts listed as least frequent (default 5)")
        ->check(CLI::Range(0, 1 << 20));
    commands[layers] = Command::layers;

    auto* experts = app.add_subcommand(
        "experts", "Experts of one layer (or all layers combined), ranked by hits");
    add_common(experts, a);
    add_layer(experts, a, "Layer (default: all layers combined)");
    add_top(experts, a, "Busiest experts to list (default 10)", 10);
    experts->add_option("--bottom", a.q.bottom, "Least busy experts to list (default 5)")
        ->check(CLI::Range(0, 1 << 20));
    commands[experts] = Command::experts;

    auto* gates =
        app.add_subcommand("gates", "Gate-input distances between consecutive logged layers");
    add_common(gates, a);
    add_layer(gates, a, "Only pairs involving this layer");
    add_gate_tokens(gates, a);
    commands[gates] = Command::gates;

    auto* cooc =
        app.add_subcommand("cooc", "Experts selected together: counts, P(b|a), Jaccard, lift");
    add_common(cooc, a);
    add_layer(cooc, a, "Layer (default: every layer)");
    add_top(cooc, a, "Pairs per layer (default 20)", 20);
    cooc->add_option("--by", a.by, "Rank pairs by count, lift or jaccard")
        ->check(CLI::IsMember({"count", "lift", "jaccard"}));
    cooc->add_flag("--matrix", a.q.matrix,
                   "Print the full E x E count matrix of --layer (diagonal: hits)");
    commands[cooc] = Command::cooc;

    auto* corr =
        app.add_subcommand("corr", "Correlation of expert load between layers l and l + delta");
    add_common(corr, a);
    add_layer(corr, a, "Only correlations starting at this layer");
    add_corr_options(corr, a);
    corr->add_flag("--matrix", a.q.matrix, "Also print r for every (layer, delta)");
    commands[corr] = Command::corr;

    auto* compare = app.add_subcommand(
        "compare", "How --tag routes differently from --vs: JS divergence, experts");
    add_common(compare, a);
    compare->add_option("--vs", a.q.vs, "The tag to compare with (default: all)");
    add_layer(compare, a, "Only this layer");
    add_top(compare, a, "Experts listed per layer (default 10)", 10);
    commands[compare] = Command::compare;

    auto* logits = app.add_subcommand(
        "logits", "Router logits and weights: per-expert moments, distributions");
    add_common(logits, a);
    add_layer(logits, a, "Layer (default: a summary of every layer)");
    commands[logits] = Command::logits;

    auto* timeline = app.add_subcommand("timeline", "Hits per time bucket");
    add_common(timeline, a);
    add_layer(timeline, a, "Layer (default: all layers combined)");
    timeline->add_option("--expert", a.expert, "Follow one expert's hits and share")
        ->check(CLI::Range(0, kMaxExpert));
    commands[timeline] = Command::timeline;

    auto* merge = app.add_subcommand("merge", "Combine databases from several nodes into one");
    merge->add_option("databases", a.merge_inputs, "Databases to combine")
        ->required()
        ->check(CLI::ExistingFile);
    merge->add_option("--out", a.merge_out, "The combined database to write")->required();
    merge->add_flag("--force", a.force, "Replace --out if it exists");

    auto* report = app.add_subcommand("report", "Write a self-contained HTML report");
    report->add_option("--html", a.html, "Output file")->required();
    report->add_option("--tag", a.q.tag, "Report on this tag (default: all)");
    report
        ->add_option("--cooc-layer", a.cooc_layer,
                     "Layer of the co-occurrence heatmap (default: the least balanced)")
        ->check(CLI::Range(0, kMaxLayer));
    analyze->add_option("--html", a.html, "Also write the HTML report of these files");

    auto* tags = app.add_subcommand("tags", "Tags with their record counts");
    add_common(tags, a);
    commands[tags] = Command::tags;

    auto* sources =
        app.add_subcommand("sources", "Ingest health per source: bytes, records, rejects, lag");
    add_common(sources, a);
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
    if (a.expert >= 0) a.q.expert = a.expert;
    if (!a.periodic.empty()) a.q.periodic = a.periodic;
    a.q.gate_tokens = a.gate_tokens == "first" ? GateTokens::first : GateTokens::all;
    a.q.by = *parse_cooc_order(a.by);
    apply_analytics_set(a.analytics_set, a.analytics);
    const int64_t now = now_seconds();
    std::optional<int64_t> since, until;
    if (!a.since.empty() && !(since = parse_time_spec(a.since, now)))
        return fail("bad --since '" + a.since + "'", 2);
    if (!a.until.empty() && !(until = parse_time_spec(a.until, now)))
        return fail("bad --until '" + a.until + "'", 2);

    try {
        if (merge->parsed()) {
            const MergeResult r = merge_databases(a.merge_inputs, a.merge_out, a.force);
            std::printf("merged %zu databases (%llu records) into %s\n", r.inputs,
                        static_cast<unsigned long long>(r.records), r.out.c_str());
            return 0;
        }
        std::vector<SourceStats> src;
        Aggregates agg(a.analytics);
        const bool reporting = report->parsed();
        if (cmd == Command::analyze && !reporting) {
            std::vector<AnalyzeInput> inputs;
            for (const auto& f : a.files)
                inputs.push_back(parse_input_spec(f));
            src = analyze_files(inputs, *parse_format(a.format), agg, a.max_line);
        } else {
            Store store = Store::open_read_only(a.db);
            store.load(agg);
            if (cmd == Command::timeline || since || until || reporting) store.load_timeline(agg);
            src = store.load_sources();
        }
        if (since || until) {
            if (agg.timeline().empty())
                throw std::invalid_argument(cmd == Command::analyze
                                                ? "--since/--until need timed records, and these "
                                                  "inputs have no ts/timestamp field"
                                                : "--since/--until need the timeline, which this "
                                                  "database does not have (moescoped "
                                                  "--analytics full keeps it)");
            agg.restrict_to_window(since.value_or(INT64_MIN), until.value_or(INT64_MAX));
            a.q.windowed = true;
        }
        if (!a.html.empty()) {
            HtmlReportOptions ro;
            ro.cooc_layer = a.cooc_layer;
            write_html_report(a.html, agg, src, a.q, ro);
            if (reporting) {
                std::printf("wrote %s\n", a.html.c_str());
                return 0;
            }
        }
        std::fputs(render(cmd, agg, src, a.q).c_str(), stdout);
    } catch (const std::invalid_argument& e) {
        return fail(e.what(), 2);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return 0;
}
