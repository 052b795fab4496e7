// What the data-quality checks found, left out and still count (docs/FIGURES.md "Data
// quality"): the `quality` section of every --json, the quality line of `summary`, the HTML
// verdict and the warnings of the decision commands, all from quality_findings().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/quality.hpp"
#include "analytics/source_stats.hpp"
#include "cli/json_writer.hpp"

namespace moe {

struct QualityFinding {
    const QualityCheck* check = nullptr;
    bool found = false;     // the data shows it
    bool remains = false;   // found, and records it proves wrong are still counted
    uint64_t left_out = 0;  // records left out (checks that leave records out)
    uint64_t count = 0;     // what was found: runs, defective streams, rejected lines, ...
    std::string text;       // one line for people (no newline); "" when not found
    std::vector<std::pair<std::string, uint64_t>> sources;  // records left out per source
    struct LayerCount {
        std::string tag;
        int32_t layer;  // -1: all layers combined
        uint64_t records;
    };
    std::vector<LayerCount> layers;  // records left out per tag and layer
};

// Every check of quality_checks(), in order, for the data of `tag`.
std::vector<QualityFinding> quality_findings(const Aggregates& agg,
                                             const std::vector<SourceStats>& sources,
                                             const TagStats& tag);

// `keep`: --keep-suspect for FILE arguments; nullopt for a database (the policy was
// applied when it was counted).
void write_quality_json(JsonWriter& w, const std::vector<QualityFinding>& f,
                        std::optional<bool> keep);
// The summary's quality line: what was left out, or "nothing left out".
std::string quality_line(const std::vector<QualityFinding>& f);
// One line (no newline) for a defect that is found and still counted.
std::string remaining_text(const QualityFinding& f);
// "warning: ..." lines (each ending in a newline) for defects still counted: what a decision
// (cache, place, prune, coverage, compare, drift) made from this data multiplies.
std::string remaining_defects_text(const std::vector<QualityFinding>& f);

}  // namespace moe
