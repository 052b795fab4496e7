// A CLI command described once: name, help, its options, what it needs from the store and
// its three renderers (JSON, CSV, text). cli/command_registry.cpp lists every command; the
// parser, --help, the database/file loading and the output switch are all generated from
// these descriptions (docs/ARCHITECTURE.md "Adding a command").
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "cli/fail_on.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"
#include "decisions/routing_sequence.hpp"
#include "options/analysis_flags.hpp"

// Declared, not included: CLI11 is header-only and costs ~10 s of compile per file that
// includes it, and many files that include this one declare no option. A command file that
// declares some includes <CLI/CLI.hpp> itself (docs/ARCHITECTURE.md "Adding a command").
namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace moe {

// What a command needs loaded before it renders (CommandSpec::needs, CommandOptions::needs).
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
    // A decision: its output starts with a warning (under a verdict line, cli/verdict.hpp)
    // when the data still holds a defect the quality policy did not remove
    // (cli/quality_report.hpp).
    kWarnsQuality = 1u << 8,
    kNeedsLogits = 1u << 9,  // the kept sequence holds each record's full router logits
    // The daemon's live transitions and diffs (large; loaded from a database only when needed)
    kNeedsTracing = 1u << 10,
};

// A command's own option values (place's cluster, kde's reference tag, ...): a struct
// derived from this in the command's file, made by its options function (make_own), so
// that adding a command never edits this header.
struct CommandOptions {
    virtual ~CommandOptions() = default;
    // Needs that depend on the values given (kde --logits: kNeedsLogits), added to
    // CommandSpec::needs by the runner.
    virtual unsigned needs() const { return kNeedsNothing; }
    // Commands that follow single tokens (tracing/: diff, requests, positions, affinity)
    // see every accepted record of FILE arguments as it is read, with the index of the
    // FILE argument it came from, and keep only what their analysis bounds; a database
    // keeps totals, so on one nothing is observed. The runner reads FILE arguments one
    // after the other in one pass (no parallel chunks) when a command observes.
    virtual bool observes() const { return false; }
    virtual void observe(const Aggregates& agg, size_t input, TagId tag, const RoutingRecord& r) {
        (void)agg, (void)input, (void)tag, (void)r;
    }
    virtual void inputs_done() {}
};

// Every option value of one command invocation (each command has its own instance, so
// per-command defaults such as --top 20 for cooc stay true in --help). What is here is
// shared by many commands; the rest is the command's own (own<T>()).
struct CommandArgs {
    QueryOptions q;
    bool json = false, csv = false;
    int32_t layer = -1;  // -1: not given
    std::vector<int32_t> periodic;
    std::string since, until;
    std::vector<std::string> files;  // analyse these instead of the database
    bool tag_from_name = false;      // --tag-from-name: each file's tag is its name
    AnalysisFlags analysis;
    std::string phase;                 // --phase: composed with --tag (records' TAG@PHASE)
    std::vector<std::string> fail_on;  // --fail-on gates, parsed by the runner (cli/fail_on.hpp)
    std::unique_ptr<CommandOptions> own_options;

    // Called once by a command's options function: its own values, to bind flags to.
    template <class T>
    T& make_own() {
        own_options = std::make_unique<T>();
        return static_cast<T&>(*own_options);
    }
    // The values make_own<T> made (std::bad_cast for another T: a programming error); the
    // defaults when none were made (a Query built without parsing, as tests do).
    template <class T>
    const T& own() const {
        static const T defaults;
        return own_options ? dynamic_cast<const T&>(*own_options) : defaults;
    }
    unsigned needs(unsigned declared) const {
        return declared | (own_options ? own_options->needs() : kNeedsNothing);
    }

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

    // The command's own option values (CommandArgs::own).
    template <class T>
    const T& own() const {
        return args.own<T>();
    }

    // The tag of --tag; throws std::invalid_argument naming the known tags.
    const TagStats& tag() const;
    TagId tag_id() const;
    const TagStats& tag_named(const std::string& name) const;
};

struct CommandSpec {
    std::string_view name;
    std::string_view help;
    // Declares the command's options: shared ones through namespace `flag`, its own bound
    // to the struct it makes with CommandArgs::make_own.
    void (*options)(CLI::App& app, CommandArgs& a);
    unsigned needs;
    void (*json)(JsonWriter& w, const Query& x);
    std::string (*csv)(const Query& x);
    std::string (*text)(const Query& x);
    // For commands that are not queries (merge) or do more than print (report, analyze
    // --html, prune --export): runs instead of the printing and returns the exit code.
    int (*action)(const Query& x) = nullptr;
    // Gates (--fail-on, cli/fail_on.hpp): the metrics the command can be gated on and their
    // values in its result; a command with metrics declares flag::fail_on.
    std::span<const FailMetric> fail_metrics = {};
    std::vector<FailReading> (*fail_readings)(const Query& x) = nullptr;
};

// The registry: every command, in --help order (immutable; a test or an embedder runs
// run_cli on a copy with more commands).
const std::vector<const CommandSpec*>& command_registry();

// The --help group of the options that shape how FILE arguments are counted.
inline constexpr const char* kFileAnalysisGroup = "Analysis of FILE arguments";

// Option declarations shared by commands (ripgrep style: one small function per flag).
namespace flag {
void output(CLI::App& app, CommandArgs& a);  // --json, --csv
void tag(CLI::App& app, CommandArgs& a);     // --tag
void window(CLI::App& app, CommandArgs& a);  // --since, --until
void files(CLI::App& app, CommandArgs& a);   // FILE[=TAG]... and the analysis options
// --tag-from-name: each FILE's tag is its file name (files() declares it; import too).
CLI::Option* tag_from_name(CLI::App& app, CommandArgs& a, const std::string& group);
// --json --csv --tag --since --until FILE...: what every query command takes.
void query(CLI::App& app, CommandArgs& a);
// --json --csv FILE...: what the commands that follow single tokens take (no --tag or
// window: they read FILE arguments as they come; cli/token_inputs.hpp).
void token_query(CLI::App& app, CommandArgs& a);
void layer(CLI::App& app, CommandArgs& a, const std::string& help);
void top(CLI::App& app, CommandArgs& a, size_t def, const std::string& help);
void bottom(CLI::App& app, CommandArgs& a, size_t def, const std::string& help);
void brief(CLI::App& app, CommandArgs& a);
void gate_tokens(CLI::App& app, CommandArgs& a);
void vs(CLI::App& app, CommandArgs& a, const std::string& help);
// --min-js BITS: the smallest JS divergence that counts as a difference (compare, drift).
void min_js(CLI::App& app, CommandArgs& a);
CLI::Option* fail_on(CLI::App& app, CommandArgs& a,
                     std::span<const FailMetric> metrics);  // --fail-on
void corr(CLI::App& app, CommandArgs& a);                   // --delta-max, --periodic
void matrix(CLI::App& app, CommandArgs& a, const std::string& help);
// --by hits|mass: what an expert's load is (selections, or the routing weight mass).
void load_basis(CLI::App& app, std::string& by, const std::string& help);
}  // namespace flag

}  // namespace moe
