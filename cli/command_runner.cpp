#include "cli/command_runner.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/analyze.hpp"
#include "cli/html_report.hpp"
#include "cli/time_spec.hpp"
#include "storage/store.hpp"

namespace moe {

namespace {

int fail(const std::string& msg, int code) {
    std::fprintf(stderr, "moescope: %s\n", msg.c_str());
    return code;
}

int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Typed options from the raw values CLI11 filled in.
void finish_options(CommandArgs& a) {
    a.q.format = a.json ? OutputFormat::json : a.csv ? OutputFormat::csv : OutputFormat::table;
    if (a.layer >= 0) a.q.layer = a.layer;
    if (a.expert >= 0) a.q.expert = a.expert;
    if (!a.periodic.empty()) a.q.periodic = a.periodic;
}

std::optional<int64_t> time_option(const std::string& name, const std::string& text, int64_t now) {
    if (text.empty()) return std::nullopt;
    if (auto t = parse_time_spec(text, now)) return t;
    throw std::invalid_argument("bad " + name + " '" + text +
                                "' (use seconds since the epoch, 2026-11-23T06:00:00Z, "
                                "'2026-11-23 06:00', -30m, -2h, -1d or now)");
}

// Loads what `c` needs into agg/sources: FILE arguments analysed in memory, else the database.
std::vector<SourceStats> load(const CommandSpec& c, const CommandArgs& a, const std::string& db,
                              Aggregates& agg, bool windowed, RoutingSequence* seq) {
    if (!a.files.empty()) {
        std::vector<AnalyzeInput> inputs;
        for (const auto& f : a.files)
            inputs.push_back(parse_input_spec(f));
        RecordObserver keep;
        if (seq) keep = [seq](TagId t, const RoutingRecord& r) { seq->add(t, r); };
        return analyze_files(inputs, a.analysis.resolved_format(), agg, a.analysis.max_line, keep);
    }
    Store store = Store::open_read_only(db);
    store.load(agg);
    if ((c.needs & kNeedsTimeline) || windowed) store.load_timeline(agg);
    return store.load_sources();
}

void apply_window(const CommandSpec& c, CommandArgs& a, Aggregates& agg, int64_t now) {
    const auto since = time_option("--since", a.since, now);
    const auto until = time_option("--until", a.until, now);
    if (!since && !until) return;
    if (c.needs & kNeedsTotals)
        throw std::invalid_argument(
            "--since/--until apply to hit counts only; `" + std::string(c.name) +
            "` figures are kept as totals (docs/FIGURES.md \"Time windows\")");
    if (agg.timeline().empty())
        throw std::invalid_argument(
            !a.files.empty() ? "--since/--until need timed records, and these inputs have no "
                               "ts/timestamp field"
                             : "--since/--until need the timeline, which this database does "
                               "not have (moescoped --analytics full keeps it)");
    a.q.since = since.value_or(INT64_MIN);
    a.q.until = until.value_or(INT64_MAX);
    agg.restrict_to_window(a.q.since, a.q.until);
    a.q.windowed = true;
}

}  // namespace

std::string render(const CommandSpec& c, const Query& x) {
    switch (x.q.format) {
        case OutputFormat::json: {
            std::string out;
            JsonWriter w(out);
            w.begin_object();
            c.json(w, x);
            w.end_object();
            return out + "\n";
        }
        case OutputFormat::csv:
            return c.csv(x);
        case OutputFormat::table:
            break;
    }
    return c.text(x);
}

void require_layer(const Query& x) {
    if (!x.q.layer) return;
    const TagStats& t = x.tag();
    if (const LayerStats* l = t.layer(*x.q.layer); l && l->tokens > 0) return;
    const auto ids = t.layer_ids();
    throw NoDataError("no records for layer " + std::to_string(*x.q.layer) + " in tag '" + t.name +
                      "'" +
                      (ids.empty() ? std::string()
                                   : " (layers " + std::to_string(ids.front()) + " to " +
                                         std::to_string(ids.back()) + ")"));
}

const CommandSpec* find_command(std::string_view name) {
    for (const CommandSpec* c : command_registry())
        if (c->name == name) return c;
    return nullptr;
}

int run_cli(int argc, char** argv) {
    CLI::App app{
        "moescope: see how Mixture-of-Experts models route tokens to experts.\n"
        "Queries a database written by moescoped, or analyzes log files directly:\n"
        "every query command also takes FILE arguments (moescope layers run.log)."};
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("--version", std::string("moescope ") + MOESCOPE_VERSION);
    std::string db = "moescope.db";
    app.add_option("--db", db, "Database written by moescoped")
        ->envname("MOESCOPE_DB")
        ->capture_default_str();

    const auto& registry = command_registry();
    std::vector<std::unique_ptr<CommandArgs>> args;
    std::vector<CLI::App*> subs;
    for (const CommandSpec* c : registry) {
        args.push_back(std::make_unique<CommandArgs>());
        CLI::App* sub = app.add_subcommand(std::string(c->name), std::string(c->help));
        c->options(*sub, *args.back());
        subs.push_back(sub);
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail(std::string(e.what()) + " (see moescope --help)", kExitUsage);
    }

    size_t i = 0;
    while (i < subs.size() && !subs[i]->parsed())
        ++i;
    const CommandSpec& c = *registry[i];
    CommandArgs& a = *args[i];
    finish_options(a);

    try {
        Aggregates agg(a.analysis.resolved_analytics());
        std::vector<SourceStats> sources;
        RoutingSequence seq;
        RoutingSequence* kept = (c.needs & kNeedsSequence) && !a.files.empty() ? &seq : nullptr;
        const Query x{agg, sources, a.q, a, a.files.empty() ? db : std::string(), kept};
        if (c.needs & kNoLoad) return c.action(x);
        const bool windowed = !a.since.empty() || !a.until.empty();
        sources = load(c, a, db, agg, windowed, kept);
        apply_window(c, a, agg, now_seconds());
        if (c.needs & kNeedsLayer) require_layer(x);
        if (!a.html.empty() && !c.action)  // analyze --html: the report as well as the text
            write_html_report(a.html, agg, sources, a.q, {a.cooc_layer});
        if (c.action) return c.action(x);
        std::fputs(render(c, x).c_str(), stdout);
    } catch (const NoDataError& e) {
        return fail(e.what(), kExitNoData);
    } catch (const std::invalid_argument& e) {
        return fail(e.what(), kExitUsage);
    } catch (const std::exception& e) {
        return fail(e.what(), kExitFailure);
    }
    return kExitOk;
}

}  // namespace moe
