// `moescope analyze FILE...`: every section at once for log files (input summary, layers,
// gate pairs, correlation, timeline, tag comparison; JSON adds co-occurrence and logits).
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/deep_report.hpp"
#include "cli/gate_report.hpp"
#include "cli/html_report.hpp"
#include "cli/input_warnings.hpp"
#include "cli/layer_report.hpp"
#include "cli/source_report.hpp"
#include "cli/summary_report.hpp"
#include "cli/table.hpp"
#include "parsers/utf8.hpp"

namespace moe {

namespace {

const std::string kRule(80, '=');

std::string input_summary(const std::vector<SourceStats>& sources) {
    std::string s;
    for (const auto& src : sources) {
        // Two lines: a long path alone would take the 100 columns.
        s += "Input " + src.name + (src.tag.empty() ? "" : " [tag " + src.tag + "]") + ":\n  " +
             fmt_num::integer(src.lines) + " lines, " + fmt_num::integer(src.records) +
             " routing records, " + fmt_num::integer(src.gate_records) + " gate vectors, " +
             fmt_num::integer(src.skipped_lines) + " skipped, " +
             fmt_num::integer(src.total_rejects()) + " rejected\n";
        for (int r = 0; r < kRejectReasonCount; ++r) {
            const auto i = static_cast<size_t>(r);
            if (!src.rejects[i]) continue;
            s += "  rejected " + std::string(reject_reason_name(static_cast<RejectReason>(r))) +
                 ": " + fmt_num::integer(src.rejects[i]) + "\n";
            // The sample on a line of its own, cut to the width (moescope sources has it whole).
            if (!src.reject_samples[i].empty()) {
                std::string shown = printable(src.reject_samples[i].front());  // escaped first
                if (shown.size() > 90) shown = std::string(utf8::cut(shown, 87)) + "...";
                s += "    e.g. " + shown + "\n";
            }
        }
        s += strided_warning(src);
    }
    return s + warnings_text(sources);
}

void analyze_json(JsonWriter& w, const Query& x) {
    const TagStats& t = x.tag();
    write_summary_json(w, x.agg, t, x.sources);
    write_sources_json(w, x.sources);
    write_warnings_json(w, x.sources);
    write_layers_json(w, x.agg, t, x.q);
    write_gates_json(w, t, x.q);
    if (!x.q.windowed) {
        write_cooc_json(w, x.agg, t, x.q);
        write_logits_json(w, t, x.q);
    }
    write_corr_json(w, x.agg, t, x.q);
    if (!x.agg.timeline().empty()) write_timeline_json(w, x.agg, x.tag_id(), x.q);
    if (const auto p = compare_pair(x, false)) write_compare_json(w, x.agg, p, x.q);
}

std::string analyze_text(const Query& x) {
    const TagStats& t = x.tag();
    // The verdict first (issue 12: the first screen answers the question people come with).
    std::string s = summary_text(x.agg, t, x.sources) + "\n" + input_summary(x.sources) + "\n" +
                    layers_text(x.agg, t, x.q);
    if (!t.gates.empty())
        s += "\n" + kRule + "\nGate-input distances between consecutive logged layers\n\n" +
             gates_text(t, x.q);
    s += "\n" + kRule + "\n" + corr_text(x.agg, t, x.q);
    if (!x.agg.timeline().empty()) s += "\n" + kRule + "\n" + timeline_text(x.agg, x.tag_id(), x.q);
    if (const auto p = compare_pair(x, false))
        s += "\n" + kRule + "\n" + compare_text(x.agg, p, x.q);
    return s;
}

// The analyze command's own option: --html also writes the report of the same aggregates.
struct AnalyzeArgs final : CommandOptions {
    std::string html;
};

}  // namespace

extern const CommandSpec kAnalyzeCommand;

namespace {
int analyze_action(const Query& x) {
    const std::string& html = x.own<AnalyzeArgs>().html;
    if (!html.empty())
        write_html_report(html, x.agg, x.sources, x.q, {-1, nullptr, x.args.keep_suspect()});
    return print(kAnalyzeCommand, x);
}
}  // namespace

extern const CommandSpec kAnalyzeCommand = {
    "analyze",
    "Analyze log files (no daemon): every section at once",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<AnalyzeArgs>();
        flag::query(app, a);
        app.get_option("files")->required();
        flag::layer(app, a, "Only this layer");
        flag::gate_tokens(app, a);
        flag::top(app, a, 10, "Experts listed as most frequent, pairs per layer in cooc");
        flag::bottom(app, a, 5, "Experts listed as least frequent");
        flag::brief(app, a);
        flag::vs(app, a, "Also compare --tag with this tag (--tag alone: with the rest)");
        flag::corr(app, a);
        app.add_option("--html", own.html, "Also write the HTML report of these files");
    },
    kNeedsLayer | kNeedsFiles,
    analyze_json,
    [](const Query& x) { return layer_experts_csv(x.agg, x.tag(), x.q); },
    analyze_text,
    analyze_action,
};

}  // namespace moe
