// What every query command shares: which tag, which layer, how to print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/cooc_figures.hpp"

#include "analytics/gate_pair_stats.hpp"
#include "decisions/significance.hpp"

namespace moe {

enum class OutputFormat { table, json, csv };

struct QueryOptions {
    std::string tag = "all";
    OutputFormat format = OutputFormat::table;
    std::optional<int32_t> layer;  // experts: none = all layers combined
    size_t top = 10;
    size_t bottom = 5;
    GateTokens gate_tokens = GateTokens::all;
    bool brief = false;               // layers: one row per layer instead of a block
    std::string vs;                   // compare: the second tag ("": the rest of --tag)
    double min_js = kDefaultMinJs;    // compare, drift: the smallest difference that matters (bits)
    CoocOrder by = CoocOrder::count;  // cooc: ranking
    bool matrix = false;              // cooc: full E x E counts; corr: every (layer, delta)
    int32_t delta_max = 30;           // corr
    std::vector<int32_t> periodic = {12, 24};  // corr: deltas summarised
    std::optional<int32_t> expert;             // timeline: one expert's hits
    bool windowed = false;                     // --since/--until in effect (EMA not defined)
    int64_t since = INT64_MIN;                 // the window: buckets starting in [since, until)
    int64_t until = INT64_MAX;
};

}  // namespace moe
