// The analysis options both binaries share (moescoped for what it ingests, moescope for the
// files it analyses), declared once: name, help, default, range. CLI11 prints the defaults.
#pragma once

#include <string>

#include "analytics/aggregates.hpp"
#include "parsers/format.hpp"
#include "parsers/line_splitter.hpp"

// Declared, not included: this header reaches most of cli/ through cli/command.hpp, and
// CLI11 (header-only) costs ~10 s of compile per file; the .cpp files include it.
namespace CLI {
class App;
}  // namespace CLI

namespace moe {

struct AnalysisFlags {
    std::string format = "auto";
    FormatSettings format_settings;  // --counts-key, --counts-tokens-key
    std::string analytics_set = "full";
    AnalyticsOptions analytics;
    size_t max_line = LineSplitter::kDefaultMaxLine;
    unsigned threads = 0;  // 0: every core

    // --threads: threads reading one file (ingest/parallel_ingest.hpp); for moescoped, a
    // followed file's large backlog (daemon/backlog_replay.hpp); its live tail is one thread.
    void add_threads_to(CLI::App& app, const std::string& group = "Analysis");
    unsigned resolved_threads() const;

    // --format, --ema-decay, --num-experts, --top-k, --keep-suspect, --bucket-s,
    // --analytics, --max-tags,
    // --max-line-bytes, in `group` of the help text.
    void add_to(CLI::App& app, const std::string& group = "Analysis");
    // The values after parsing: the analytics set applied, the format resolved (pointing at
    // format_settings: this object must outlive the streams). Throws std::invalid_argument
    // for settings the format does not take or lacks.
    AnalyticsOptions resolved_analytics() const;
    Format resolved_format() const;
    // Which of these options the user gave (for a refusal that names the option).
    bool given(const CLI::App& app, const std::string& name) const;
};

}  // namespace moe
