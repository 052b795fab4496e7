#include "cli/command.hpp"

#include <map>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "cli/time_spec.hpp"

namespace moe {

const TagStats& Query::tag_named(const std::string& name) const {
    if (auto id = agg.find_tag(name)) return agg.tag(*id);
    std::string known;
    for (TagId i = 0; i < agg.tag_count(); ++i)
        known += (i ? ", " : "") + printable(agg.tag(i).name);  // a NUL would end what()
    throw NoDataError("no records of tag '" + name + "' (known: " + known + ")");
}

const TagStats& Query::tag() const {
    return tag_named(q.tag);
}

TagId Query::tag_id() const {
    tag();  // throws for an unknown tag
    return *agg.find_tag(q.tag);
}

namespace flag {

void output(CLI::App& app, CommandArgs& a) {
    auto* j = app.add_flag("--json", a.json, "Print one JSON object (keys: docs/FIGURES.md)")
                  ->group("Output");
    auto* c = app.add_flag("--csv", a.csv, "Print CSV (one header row)")->group("Output");
    j->excludes(c);
}

void tag(CLI::App& app, CommandArgs& a) {
    app.add_option("--tag", a.q.tag, "Report on this tag")->capture_default_str();
    app.add_option("--phase", a.phase,
                   "Only records of this phase (prefill, decode): the tag TAG@PHASE, or PHASE "
                   "alone for --tag all (docs/ARCHITECTURE.md \"Phases\")");
}

void window(CLI::App& app, CommandArgs& a) {
    // An empty value would otherwise read as "no window" (the runner parses the rest).
    const CLI::Validator not_empty(
        [](const std::string& s) {
            return s.empty() ? std::string("empty time (use ") + kTimeSpecForms + ")"
                             : std::string();
        },
        "TIME");
    app.add_option("--since", a.since,
                   "Only time buckets from this time (epoch s, ISO 8601 UTC, or -2h/-30m/-1d)")
        ->check(not_empty)
        ->group("Time window");
    app.add_option("--until", a.until, "Only time buckets before this time (same forms)")
        ->check(not_empty)
        ->group("Time window");
}

void files(CLI::App& app, CommandArgs& a) {
    app.add_option("files", a.files,
                   "Log files to analyse in memory instead of the database (FILE or FILE=TAG; "
                   "- for stdin)");
    tag_from_name(app, a, kFileAnalysisGroup);
    a.analysis.add_to(app, kFileAnalysisGroup);
    a.analysis.add_threads_to(app, kFileAnalysisGroup);
}

CLI::Option* tag_from_name(CLI::App& app, CommandArgs& a, const std::string& group) {
    return app
        .add_flag("--tag-from-name", a.tag_from_name,
                  "Tag each file with its name without extensions (runs/gsm8k.jsonl -> gsm8k), "
                  "also the files of a directory; not with FILE=TAG or -")
        ->group(group);
}

void query(CLI::App& app, CommandArgs& a) {
    output(app, a);
    tag(app, a);
    window(app, a);
    files(app, a);
}

void token_query(CLI::App& app, CommandArgs& a) {
    output(app, a);
    files(app, a);
}

void layer(CLI::App& app, CommandArgs& a, const std::string& help) {
    app.add_option("--layer", a.layer, help)->check(CLI::Range(0, kMaxLayer));
}

void top(CLI::App& app, CommandArgs& a, size_t def, const std::string& help) {
    a.q.top = def;
    app.add_option("--top", a.q.top, help)
        ->check(CLI::Range(size_t{0}, size_t{1} << 20))
        ->capture_default_str();
}

void bottom(CLI::App& app, CommandArgs& a, size_t def, const std::string& help) {
    a.q.bottom = def;
    app.add_option("--bottom", a.q.bottom, help)
        ->check(CLI::Range(size_t{0}, size_t{1} << 20))
        ->capture_default_str();
}

void brief(CLI::App& app, CommandArgs& a) {
    app.add_flag("--brief", a.q.brief, "One row per layer instead of a block");
}

void gate_tokens(CLI::App& app, CommandArgs& a) {
    const std::map<std::string, GateTokens> names{{"all", GateTokens::all},
                                                  {"first", GateTokens::first}};
    app.add_option("--gate-tokens", a.q.gate_tokens,
                   "FailRule pairs over 'all' tokens or only token 0 ('first', the reference "
                   "script's view)")
        ->transform(CLI::CheckedTransformer(names).description("{all,first}"))
        ->default_str("all");
}

void vs(CLI::App& app, CommandArgs& a, const std::string& help) {
    app.add_option("--vs", a.q.vs, help)->capture_default_str();
}

void min_js(CLI::App& app, CommandArgs& a) {
    app.add_option("--min-js", a.q.min_js,
                   "Smallest JS divergence (bits) that counts as a difference; engine totals "
                   "are judged by it alone (docs/FIGURES.md \"Count-only data\")")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
}

CLI::Option* fail_on(CLI::App& app, CommandArgs& a, std::span<const FailMetric> metrics) {
    // Repeated or comma-separated, like every option with several values.
    return app.add_option("--fail-on", a.fail_on, fail_on_help(metrics))
        ->type_name("METRIC>VALUE")
        ->delimiter(',');
}

void corr(CLI::App& app, CommandArgs& a) {
    app.add_option("--delta-max", a.q.delta_max, "Largest layer distance")
        ->check(CLI::Range(1, kMaxLayer))
        ->capture_default_str();
    app.add_option("--periodic", a.periodic, "Deltas to summarise")
        ->delimiter(',')
        ->check(CLI::Range(1, kMaxLayer))
        ->default_str("12,24");
}

void matrix(CLI::App& app, CommandArgs& a, const std::string& help) {
    app.add_flag("--matrix", a.q.matrix, help);
}

void load_basis(CLI::App& app, std::string& by, const std::string& help) {
    app.add_option("--by", by, help)->check(CLI::IsMember({"hits", "mass"}))->capture_default_str();
}

}  // namespace flag

}  // namespace moe
