// What every query command shares: which tag, which layer, how to print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analytics/gate_pair_stats.hpp"

namespace moe {

enum class OutputFormat { table, json, csv };

struct QueryOptions {
    std::string tag = "all";
    OutputFormat format = OutputFormat::table;
    std::optional<int32_t> layer;  // experts: none = all layers combined
    size_t top = 10;
    size_t bottom = 5;
    GateTokens gate_tokens = GateTokens::all;
    bool brief = false;  // layers: one row per layer instead of a block
};

}  // namespace moe
