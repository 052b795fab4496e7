#include "cli/command_runner.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <regex>

#include <CLI/CLI.hpp>

#include "cli/analyze.hpp"
#include "cli/deep_report.hpp"
#include "cli/input_check.hpp"
#include "cli/input_files.hpp"
#include "cli/quality_report.hpp"
#include "cli/table.hpp"
#include "cli/time_spec.hpp"
#include "cli/verdict.hpp"
#include "moescope_version.hpp"  // generated from options/moescope_version.hpp.in (CMakeLists.txt)
#include "options/help_format.hpp"
#include "storage/store.hpp"

namespace moe {

namespace {

// Messages quote names from the input (tags, paths): no raw control character reaches the
// terminal.
int fail(const std::string& msg, int code) {
    std::fprintf(stderr, "moescope: %s\n", printable(msg).c_str());
    return code;
}

// Typed options from the raw values CLI11 filled in.
void finish_options(CommandArgs& a) {
    a.q.format = a.json ? OutputFormat::json : a.csv ? OutputFormat::csv : OutputFormat::table;
    if (a.layer >= 0) a.q.layer = a.layer;
    if (!a.periodic.empty()) a.q.periodic = a.periodic;
    if (!a.phase.empty()) a.q.tag = a.q.tag == kAllTagName ? a.phase : a.q.tag + "@" + a.phase;
}

std::optional<int64_t> time_option(const std::string& name, const std::string& text, int64_t now) {
    if (text.empty()) return std::nullopt;
    if (auto t = parse_time_spec(text, now)) return t;
    throw std::invalid_argument("bad " + name + " '" + text + "' (use " + kTimeSpecForms + ")");
}

// Loads what `needs` asks for into agg/sources: FILE arguments analysed in memory, else the
// database.
std::vector<SourceStats> load(unsigned needs, const CommandArgs& a, const std::string& db,
                              Aggregates& agg, bool windowed, RoutingSequence* seq, int64_t now) {
    if (!a.files.empty()) {
        std::vector<AnalyzeInput> inputs;
        for (const auto& f : a.files)
            inputs.push_back(parse_input_spec(f));
        RecordObserver keep;
        if (seq) keep = [seq](TagId t, const RoutingRecord& r) { seq->add(t, r); };
        const Format format = a.analysis.resolved_format();
        CommandOptions* own = a.own_options.get();
        if (!own || !own->observes()) {
            const std::vector<AnalyzeInput> read = expand_inputs(inputs, a.tag_from_name);
            auto sources = analyze_files(read, format, agg, a.analysis.max_line, keep,
                                         a.analysis.resolved_threads());
            warn_unrecognised(inputs, read, sources, format);
            return sources;
        }
        // One FILE argument after the other, so the command knows which run a record is of.
        std::vector<SourceStats> sources;
        for (size_t i = 0; i < inputs.size(); ++i) {
            const RecordObserver seen = [&, i](TagId t, const RoutingRecord& r) {
                if (keep) keep(t, r);
                own->observe(agg, i, t, r);
            };
            const std::vector<AnalyzeInput> read = expand_inputs({inputs[i]}, a.tag_from_name);
            auto s = analyze_files(read, format, agg, a.analysis.max_line, seen, 1);
            warn_unrecognised({inputs[i]}, read, s, format);
            sources.insert(sources.end(), s.begin(), s.end());
        }
        own->inputs_done();
        return sources;
    }
    Store store = Store::open_read_only(db);
    store.load(agg, needs & kNeedsTracing ? Store::Tracing::load : Store::Tracing::skip);
    if (windowed) {
        // The window's buckets only (docs/FIGURES.md "Time windows"); apply_window checks
        // the same bounds again.
        store.load_timeline_window(
            agg, time_option("--since", a.since, now).value_or(INT64_MIN),
            time_option("--until", a.until, now).value_or(INT64_MAX),
            needs & kNeedsTimeline ? Store::Window::per_bucket : Store::Window::summed);
    } else if (needs & kNeedsTimeline) {
        store.load_timeline(agg);
    }
    return store.load_sources();
}

void apply_window(const CommandSpec& c, unsigned needs, CommandArgs& a, Aggregates& agg,
                  int64_t now) {
    const auto since = time_option("--since", a.since, now);
    const auto until = time_option("--until", a.until, now);
    if (!since && !until) return;
    if (needs & kNeedsTotals)
        throw std::invalid_argument(
            "--since/--until apply to hit counts only; `" + std::string(c.name) +
            "` figures are kept as totals (docs/FIGURES.md \"Time windows\")");
    if (agg.timeline().empty())
        throw std::invalid_argument(
            "--since/--until need timed records: " +
            untimed_reason(agg.tag(kAllTag).global.count_only(), !a.files.empty()));
    a.q.since = since.value_or(INT64_MIN);
    a.q.until = until.value_or(INT64_MAX);
    const int64_t first = agg.timeline().buckets().begin()->first.start;
    int64_t last = first;
    for (const auto& [key, counts] : agg.timeline().buckets())
        last = std::max(last, key.start + counts.seconds);
    agg.restrict_to_window(a.q.since, a.q.until);
    a.q.windowed = true;
    const auto id = agg.find_tag(a.q.tag);
    if ((needs & kNeedsLayer) && id && agg.tag(*id).global.tokens == 0)
        throw NoDataError("no records of tag '" + a.q.tag + "' in the window (timed records span " +
                          iso_utc(first) + " to " + iso_utc(last) + ")");
}

// An option that takes several values takes one per occurrence (repeat it, or separate the
// values with commas where it says so): CLI11 would otherwise let it swallow the FILE
// arguments after it (`prune --tag T FILE` read FILE as a tag).
void one_value_per_occurrence(CLI::App& sub) {
    for (CLI::Option* o : sub.get_options())
        if (!o->get_positional() && o->get_items_expected_max() > 1) o->allow_extra_args(false);
}

// "2.500000" -> "2.5", "4095" stays.
std::string trim_zeros(std::string v) {
    if (v.find('.') == std::string::npos) return v;
    while (v.back() == '0')
        v.pop_back();
    if (v.back() == '.') v.pop_back();
    return v;
}

// CLI::Range says "--layer: Value abc not in range 0 to 4095" also for a value that is not a
// number; say what is accepted instead, for every option checked with a range.
std::string explain_range(const std::string& msg) {
    static const std::regex range(R"(^(.*): Value (.*) not in range (\S+) to (\S+)$)");
    std::smatch m;
    if (!std::regex_match(msg, m, range)) return msg;
    const bool real = m[3].str().find('.') != std::string::npos;
    return m[1].str() + ": '" + m[2].str() + "' is not " + (real ? "a number" : "an integer") +
           " from " + trim_zeros(m[3]) + " to " + trim_zeros(m[4]);
}

// CLI11's message, plus what it leaves out: the valid commands when none was recognised.
std::string parse_error_message(const CLI::ParseError& e,
                                const std::vector<const CommandSpec*>& registry,
                                const std::vector<CLI::App*>& subs, const std::string& unknown) {
    std::string msg = explain_range(e.what());
    const bool any = std::any_of(subs.begin(), subs.end(), [](CLI::App* s) { return s->parsed(); });
    if (!any && !unknown.empty()) msg = "unknown command '" + unknown + "'";
    if (!any) {
        msg += " (commands:";
        for (const CommandSpec* c : registry)
            msg += " " + std::string(c->name);
        msg += ")";
    }
    return msg + " (see moescope --help)";
}

}  // namespace

std::string render(const CommandSpec& c, const Query& x) {
    // docs/FIGURES.md "Data quality": every JSON says what was left out; a decision warns
    // when a defect is still counted (on stderr for CSV, which stays one table).
    const std::vector<QualityFinding> quality = quality_findings(x.agg, x.sources, x.tag());
    const bool warns = x.args.needs(c.needs) & kWarnsQuality;
    const std::string warn = warns ? remaining_defects_text(quality) : "";
    switch (x.q.format) {
        case OutputFormat::json: {
            std::string out;
            JsonWriter w(out);
            w.begin_object();
            c.json(w, x);
            write_quality_json(w, quality, x.args.keep_suspect());
            w.end_object();
            return out + "\n";
        }
        case OutputFormat::csv:
            if (!warn.empty()) std::fputs(printable_text(warn).c_str(), stderr);
            return c.csv(x);
        case OutputFormat::table:
            break;
    }
    // Tables escape their cells already; this covers tags and names printed in headings.
    std::string text = c.text(x);
    // A command that opens with a verdict keeps it first, above the warning.
    if (!warn.empty() && text.starts_with(kVerdictPrefix)) {
        size_t eol = text.find('\n') + 1;  // 0 if none: the warning goes first
        while (eol && text.compare(eol, kVerdictIndent.size(), kVerdictIndent) == 0)
            eol = text.find('\n', eol) + 1;
        return printable_text(text.substr(0, eol) + warn + text.substr(eol));
    }
    return printable_text(warn + text);
}

int print(const CommandSpec& c, const Query& x) {
    const std::string out = render(c, x);
    std::fwrite(out.data(), 1, out.size(), stdout);  // fputs would stop at a NUL
    return kExitOk;
}

void require_per_token(const CommandSpec& c, const Query& x) {
    const TagStats& t = x.tag();
    if (!t.global.has_counts()) return;
    throw NoDataError("tag '" + t.name + "' holds engine totals " +
                      (t.global.count_only() ? std::string("only (count-only data)")
                                             : "beside per-token records (mixed)") +
                      ": `" + std::string(c.name) +
                      "` needs per-token records only (docs/FIGURES.md \"Count-only data\"; "
                      "give the record files a tag of their own: FILE=TAG)");
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
    return run_cli(argc, argv, command_registry());
}

int run_cli(int argc, char** argv, const std::vector<const CommandSpec*>& registry) {
    CLI::App app{
        "moescope: see how Mixture-of-Experts models route tokens to experts.\n"
        "Queries a database written by moescoped, or analyzes log files directly:\n"
        "every query command also takes FILE arguments (moescope layers run.log)."};
    use_wrapped_help(app);  // before the subcommands: they copy it
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("--version", std::string("moescope ") + kVersion);
    std::string db = "moescope.db";
    app.add_option("--db", db, "Database written by moescoped")
        ->envname("MOESCOPE_DB")
        ->capture_default_str();

    std::vector<std::unique_ptr<CommandArgs>> args;
    std::vector<CLI::App*> subs;
    for (const CommandSpec* c : registry) {
        args.push_back(std::make_unique<CommandArgs>());
        CLI::App* sub = app.add_subcommand(std::string(c->name), std::string(c->help));
        c->options(*sub, *args.back());
        one_value_per_occurrence(*sub);
        subs.push_back(sub);
    }

    // "-=TAG" (stdin with a tag) looks like an option to CLI11: pass it after "--", where
    // every argument is a FILE.
    std::vector<char*> argv2(argv, argv + argc);
    const auto dash = std::find_if(argv2.begin(), argv2.end(),
                                   [](const char* s) { return std::string_view(s) == "--"; });
    auto stdin_tag = [](const char* s) { return std::string_view(s).starts_with("-="); };
    std::string separator = "--";
    if (std::any_of(argv2.begin(), dash, stdin_tag)) {
        std::vector<char*> moved;
        std::copy_if(argv2.begin(), dash, std::back_inserter(moved), stdin_tag);
        std::vector<char*> rest(dash, argv2.end());
        argv2.erase(std::remove_if(argv2.begin(), argv2.end() - static_cast<ptrdiff_t>(rest.size()),
                                   stdin_tag),
                    argv2.end());
        if (rest.empty()) rest.push_back(separator.data());
        argv2.insert(argv2.end(), rest.begin(), rest.begin() + 1);  // the "--"
        argv2.insert(argv2.end(), moved.begin(), moved.end());
        argv2.insert(argv2.end(), rest.begin() + 1, rest.end());
    }

    try {
        app.parse(static_cast<int>(argv2.size()), argv2.data());
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // The first word that is not an option (or an option's value) is the command asked for.
        std::string unknown;
        for (int k = 1; k < argc; ++k) {
            const std::string_view w = argv[k];
            if (w == "--db") {
                ++k;
                continue;
            }
            if (!w.starts_with("-")) {
                unknown = w;
                break;
            }
        }
        return fail(parse_error_message(e, registry, subs, unknown), kExitUsage);
    }

    size_t i = 0;
    while (i < subs.size() && !subs[i]->parsed())
        ++i;
    const CommandSpec& c = *registry[i];
    CommandArgs& a = *args[i];
    finish_options(a);
    // The analysis options shape how FILE arguments are counted; a database was counted
    // when it was written, so on one they cannot apply: refused, never ignored.
    if (a.files.empty())
        for (const CLI::Option* o : subs[i]->get_options())
            if (o->get_group() == kFileAnalysisGroup && o->count() > 0)
                return fail(o->get_name() + " applies to FILE arguments; the database " + db +
                                " was counted with the options moescoped (or import) ran with",
                            kExitUsage);

    try {
        std::vector<FailRule> rules;
        for (const std::string& g : a.fail_on)
            rules.push_back(parse_fail_on(g, c.name, c.fail_metrics));
        Aggregates agg(a.analysis.resolved_analytics());
        std::vector<SourceStats> sources;
        const unsigned needs = a.needs(c.needs);
        RoutingSequence seq((needs & kNeedsLogits) != 0);
        RoutingSequence* kept = (needs & kNeedsSequence) && !a.files.empty() ? &seq : nullptr;
        // kNoLoad actions that write (merge, import) get --db even with FILE arguments.
        const bool db_wanted = a.files.empty() || (needs & (kNoLoad | kDbWithFiles));
        const Query x{agg, sources, a.q, a, db_wanted ? db : std::string(), kept};
        if (needs & kNoLoad) return c.action(x);
        const bool windowed = !a.since.empty() || !a.until.empty();
        const int64_t now = now_seconds();  // one "now" for the load and the window
        sources = load(needs, a, db, agg, windowed, kept, now);
        apply_window(c, needs, a, agg, now);
        if (needs & kNeedsPerToken) require_per_token(c, x);
        if (needs & kNeedsLayer) require_layer(x);
        // A gate is checked before anything is printed: one that cannot apply is refused.
        std::vector<FailReading> readings;
        const bool gated = !rules.empty() && c.fail_readings;
        if (gated) {
            readings = c.fail_readings(x);
            const FailGaps gaps = fail_gaps(rules, readings);
            if (!gaps.refused.empty()) return fail(gaps.refused.front(), kExitUsage);
            for (const std::string& line : gaps.notes)
                std::fprintf(stderr, "moescope: %s\n", printable_text(line).c_str());
        }
        const int rc = c.action ? c.action(x) : print(c, x);
        if (rc != kExitOk || !gated) return rc;
        const std::vector<std::string> crossed = fail_crossings(rules, readings);
        for (const std::string& line : crossed)
            std::fprintf(stderr, "moescope: %s\n", printable_text(line).c_str());
        return crossed.empty() ? kExitOk : kExitFailOn;
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
