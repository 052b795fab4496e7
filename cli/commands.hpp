// The CLI's commands as functions from (aggregates, options) to printed text, so tests
// can call them without a process.
#pragma once

#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "cli/query_options.hpp"

namespace moe {

enum class Command {
    analyze,
    layers,
    experts,
    gates,
    tags,
    sources,
    cooc,
    corr,
    compare,
    logits,
    timeline
};

// Renders one command's output. Throws std::invalid_argument for an unknown tag or layer.
std::string render(Command cmd, const Aggregates& agg, const std::vector<SourceStats>& sources,
                   const QueryOptions& q);

}  // namespace moe
