// `moescope report --html out.html`: one self-contained HTML file (inline CSS and JS, data
// embedded as JSON, no network access when opened) with a layer x expert heatmap of shares,
// imbalance across layers, a co-occurrence heatmap, the layer correlation matrix with its
// periodic summary, gate-distance charts, tag comparison and hits over time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"

namespace moe {

struct WeightsResult;
class RoutingDiff;

struct HtmlReportOptions {
    int32_t cooc_layer = -1;                 // -1: the layer with the highest Gini
    const WeightsResult* weights = nullptr;  // report --model: the weights section
    std::optional<bool> keep_suspect;        // CommandArgs::keep_suspect()
    // Two FILE arguments: their routing diff, as `moescope diff A B` computes it.
    const RoutingDiff* diff = nullptr;
    std::string diff_a, diff_b;  // the two runs' names
};

// Its "routing_diff" member: per layer and overall agreement of the two runs, the share of
// tokens that differ, the lowest overlap (html_report_diff.cpp; `diff --json`'s keys).
void write_report_diff(JsonWriter& w, const HtmlReportOptions& o);

// Its "decisions" member: coverage, keep/drop map, cache hit rates (html_report_decisions.cpp).
void write_report_decisions(JsonWriter& w, const Aggregates& agg, const TagStats& t, TagId id);

// The data behind the page as one JSON object (embedded in the page; html_report_data.cpp).
std::string html_report_data(const Aggregates& agg, const std::vector<SourceStats>& sources,
                             const QueryOptions& q, const HtmlReportOptions& o);

// The report as a string (tests), and written to a file (throws std::runtime_error).
std::string html_report(const Aggregates& agg, const std::vector<SourceStats>& sources,
                        const QueryOptions& q, const HtmlReportOptions& o);
void write_html_report(const std::string& path, const Aggregates& agg,
                       const std::vector<SourceStats>& sources, const QueryOptions& q,
                       const HtmlReportOptions& o);

}  // namespace moe
