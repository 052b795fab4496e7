#include "options/analysis_flags.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "options/help_format.hpp"
#include "parsers/record.hpp"

namespace moe {

void AnalysisFlags::add_to(CLI::App& app, const std::string& group) {
    // Every app that takes these options prints --help within the terminal's width: here,
    // so moescoped's gets it too (moescope's main app sets it for all its commands).
    use_wrapped_help(app);
    app.add_option("--format", format, format_help())
        // The names are in the help text already: not again as the value's type.
        ->check(CLI::IsMember(format_names()).description(""))
        ->capture_default_str()
        ->group(group);
    app.add_option("--counts-key", format_settings.counts_key,
                   "With --format counts-json: the field of the JSON object holding the "
                   "[layers][experts] counts (or {\"LAYER\": [experts], ...})")
        ->group(group);
    app.add_option("--counts-tokens-key", format_settings.counts_tokens_key,
                   "With --format counts-json: a field holding the token count; k = selections "
                   "/ tokens when that is one whole number for every layer")
        ->group(group);
    app.add_option("--ema-decay", analytics.ema_decay,
                   "EMA decay d per record (docs/FIGURES.md \"EMA\")")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str()
        ->group(group);
    app.add_option("--num-experts", analytics.num_experts,
                   "Experts per layer; 0: from a meta record, else largest id + 1")
        ->check(CLI::Range(0u, static_cast<uint32_t>(kMaxExpert + 1)))
        ->capture_default_str()
        ->group(group);
    app.add_option("--top-k", analytics.top_k,
                   "Experts per record; records with another count are topk_changed rejects. "
                   "0: from a meta record, else from each layer's first records")
        ->check(CLI::Range(0u, static_cast<uint32_t>(kMaxTopK)))
        ->capture_default_str()
        ->group(group);
    app.add_flag("--keep-suspect", analytics.keep_suspect,
                 "Count the records the data-quality checks prove wrong (warm-up runs, "
                 "strided rows) instead of leaving them out (docs/FIGURES.md \"Data quality\")")
        ->group(group);
    app.add_option("--bucket-s", analytics.bucket_seconds, "Timeline bucket width in seconds")
        ->check(CLI::Range(int64_t{1}, int64_t{86400} * 366))
        ->capture_default_str()
        ->group(group);
    app.add_option("--analytics", analytics_set,
                   "counts, standard (+ EMA, co-occurrence) or full (everything)")
        ->check(CLI::IsMember({"counts", "standard", "full"}))
        ->capture_default_str()
        ->group(group);
    app.add_option("--max-tags", analytics.max_tags,
                   "Distinct tags kept; records of further tags count under 'all' only")
        ->check(CLI::Range(size_t{1}, size_t{1} << 20))
        ->capture_default_str()
        ->group(group);
    app.add_option("--max-line-bytes", max_line, "Longer lines are rejected (line_too_long)")
        ->check(CLI::Range(size_t{64}, size_t{1} << 30))
        ->capture_default_str()
        ->group(group);
}

void AnalysisFlags::add_threads_to(CLI::App& app, const std::string& group) {
    app.add_option("--threads", threads,
                   "Threads reading each plain file (moescoped: a followed file's backlog); "
                   "0: every core. Results equal one thread's (docs/ARCHITECTURE.md "
                   "\"Parallel ingest\")")
        ->check(CLI::Range(0u, 1024u))
        ->capture_default_str()
        ->group(group);
}

unsigned AnalysisFlags::resolved_threads() const {
    return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

AnalyticsOptions AnalysisFlags::resolved_analytics() const {
    AnalyticsOptions o = analytics;
    apply_analytics_set(analytics_set, o);
    return o;
}

Format AnalysisFlags::resolved_format() const {
    const Format f = parse_format(format).value_or(Format::auto_detect);
    const bool counts_json = f.name() == "counts-json";
    if (counts_json && format_settings.counts_key.empty())
        throw std::invalid_argument(
            "--format counts-json needs --counts-key KEY (the field holding the counts)");
    if (!counts_json &&
        !(format_settings.counts_key.empty() && format_settings.counts_tokens_key.empty()))
        throw std::invalid_argument(
            "--counts-key and --counts-tokens-key need --format counts-json");
    return Format(f.name(), &format_settings);
}

bool AnalysisFlags::given(const CLI::App& app, const std::string& name) const {
    const CLI::Option* o = app.get_option_no_throw(name);
    return o && o->count() > 0;
}

}  // namespace moe
