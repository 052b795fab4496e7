// The one-screen verdict (`moescope summary`, and the first screen of `analyze`): most and
// least balanced layers, dead, cold and hot experts, and the warnings that change conclusions.
// Thresholds are defined in docs/FIGURES.md "Summary".
#pragma once

#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "cli/json_writer.hpp"

namespace moe {

void write_summary_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                        const std::vector<SourceStats>& sources);
// At most ~20 lines of at most 100 columns.
std::string summary_text(const Aggregates& agg, const TagStats& tag,
                         const std::vector<SourceStats>& sources);

}  // namespace moe
