// A CLI command described once: name, help, its options, what it needs from the store and
// its three renderers (JSON, CSV, text). cli/command_registry.cpp lists every command; the
// parser, --help, the database/file loading and the output switch are all generated from
// these descriptions (docs/ARCHITECTURE.md "Adding a command").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "cli/decision_args.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"
#include "decisions/routing_sequence.hpp"
#include "options/analysis_flags.hpp"

namespace moe {

// `place` (cli/place_report.cpp): the cluster shape and the plan's inputs and exports.
struct PlaceArgs {
    size_t gpus = 0, slots = 0, nodes = 1, groups = 1;  // slots 0: one per expert
    std::string policy = "hierarchical", by = "hits";
    bool by_tag = false;
    std::string current, export_sglang, export_sglang_count, export_trtllm;
};

// `weights` (cli/weights_report.cpp) and `report --model`: the model file and what to compare.
struct WeightsArgs {
    std::string model;
    std::string db;                        // routing database to join (weights --db); "" for none
    bool router = false, experts = false;  // neither: both
};

// `drift` (cli/drift_report.cpp): what the recent windows are compared with.
struct DriftArgs {
    std::string baseline;         // --baseline TAG
    std::string baseline_window;  // --baseline-window T0..T1
    std::string window = "1h";    // --window: width of the compared windows
    double alpha = 0.01;
    std::string fit, test;  // kde (cli/kde_report.cpp): reference tag and tested tag
    std::string reference;  // kde --reference DB: the stored fit of --fit in DB
    uint32_t rank = 1;      // kde --rank K: the K-th largest routing weight of each record
    uint32_t trim = 0;      // kde --trim T: each record's values without its T largest and smallest
    uint32_t popular = 0;   // kde --popular P: the values of the reference's P-th most selected
    bool logits = false;    // kde --logits: full router logits instead of top-k weights
};

// Every option value of one command invocation (each command has its own instance, so
// per-command defaults such as --top 20 for cooc stay true in --help).
struct CommandArgs {
    QueryOptions q;
    bool json = false, csv = false;
    int32_t layer = -1, expert = -1;  // -1: not given
    std::vector<int32_t> periodic;
    std::string since, until;
    std::vector<std::string> files;  // analyse these instead of the database
    AnalysisFlags analysis;
    std::string html;         // report (and analyze --html): output file
    int32_t cooc_layer = -1;  // report: co-occurrence layer
    std::vector<std::string> merge_inputs;
    std::string merge_out;
    bool force = false;
    std::string forget;  // sources --forget NAME
    std::string phase;   // --phase: composed with --tag (records' TAG@PHASE)
    PlaceArgs place;
    DecisionArgs decide;  // coverage, prune, cache
    WeightsArgs weights;
    DriftArgs drift;

    // --keep-suspect for FILE arguments; none for a database, whose records were counted
    // with the policy of moescoped or import (docs/FIGURES.md "Data quality").
    std::optional<bool> keep_suspect() const {
        if (files.empty()) return std::nullopt;
        return analysis.analytics.keep_suspect;
    }
};

// What a renderer sees: the loaded aggregates and sources and the parsed options.
struct Query {
    const Aggregates& agg;
    const std::vector<SourceStats>& sources;
    const QueryOptions& q;
    const CommandArgs& args;
    std::string db;  // the database read, or "" for files
    // With kNeedsSequence and FILE arguments: the accepted records in log order; else null.
    const RoutingSequence* sequence = nullptr;

    // The tag of --tag; throws std::invalid_argument naming the known tags.
    const TagStats& tag() const;
    TagId tag_id() const;
    const TagStats& tag_named(const std::string& name) const;
};

// What a command needs loaded before it renders.
enum Need : unsigned {
    kNeedsNothing = 0,
    kNeedsTimeline = 1u << 0,  // the timeline table (large; loaded only when needed)
    kNeedsTotals = 1u << 1,    // figures not kept per time bucket: refused with --since/--until
    kNeedsLayer = 1u << 2,     // a given --layer must have records in the tag
    kNeedsFiles = 1u << 3,     // runs on files only (analyze)
    kNoLoad = 1u << 4,         // runs on its own (merge): action() does everything
    kNeedsSequence = 1u << 5,  // keep the recorded sequence of FILE arguments (Query::sequence)
    kNeedsPerToken = 1u << 6,  // per-token records: refused (exit 3) for count-only data
    kDbWithFiles = 1u << 7,    // Query::db is --db even with FILE arguments (kde --fit stores)
    // A decision: its output starts with a warning when the data still holds a defect the
    // quality policy did not remove (cli/quality_report.hpp).
    kWarnsQuality = 1u << 8,
};

struct CommandSpec {
    std::string_view name;
    std::string_view help;
    // Adds the command's own options (the shared ones come from add_query_flags).
    void (*options)(CLI::App& app, CommandArgs& a);
    unsigned needs;
    void (*json)(JsonWriter& w, const Query& x);
    std::string (*csv)(const Query& x);
    std::string (*text)(const Query& x);
    // For commands that are not queries (merge) or write a file (report): runs instead of
    // the renderers and returns the exit code.
    int (*action)(const Query& x) = nullptr;
};

// The registry: every command, in --help order.
const std::vector<const CommandSpec*>& command_registry();

// The --help group of the options that shape how FILE arguments are counted.
inline constexpr const char* kFileAnalysisGroup = "Analysis of FILE arguments";

// Option declarations shared by commands (ripgrep style: one small function per flag).
namespace flag {
void output(CLI::App& app, CommandArgs& a);  // --json, --csv
void tag(CLI::App& app, CommandArgs& a);     // --tag
void window(CLI::App& app, CommandArgs& a);  // --since, --until
void files(CLI::App& app, CommandArgs& a);   // FILE[=TAG]... and the analysis options
// --json --csv --tag --since --until FILE...: what every query command takes.
void query(CLI::App& app, CommandArgs& a);
void layer(CLI::App& app, CommandArgs& a, const std::string& help);
void top(CLI::App& app, CommandArgs& a, size_t def, const std::string& help);
void bottom(CLI::App& app, CommandArgs& a, size_t def, const std::string& help);
void brief(CLI::App& app, CommandArgs& a);
void gate_tokens(CLI::App& app, CommandArgs& a);
void vs(CLI::App& app, CommandArgs& a, const std::string& help);
// --min-js BITS: the smallest JS divergence that counts as a difference (compare, drift).
void min_js(CLI::App& app, CommandArgs& a);
void corr(CLI::App& app, CommandArgs& a);  // --delta-max, --periodic
void matrix(CLI::App& app, CommandArgs& a, const std::string& help);
// --by hits|mass: what an expert's load is (selections, or the routing weight mass).
void load_basis(CLI::App& app, std::string& by, const std::string& help);
}  // namespace flag

}  // namespace moe
