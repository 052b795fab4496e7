// Option values of the decision commands (coverage, prune, cache; docs/FIGURES.md).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace moe {

struct DecisionArgs {
    // prune: exactly one rule, or --check
    double keep_coverage = NAN;
    int64_t keep = -1;
    double drop_below = NAN;
    std::string by = "hits";
    std::vector<std::string> tags;  // prune --tag T...
    std::string export_path;        // prune --export
    std::string check_path;         // prune --check
    bool strict = false;            // prune --strict: a mismatched keep-list is an error
    double cold_share = NAN;        // experts --cold SHARE
    // cache: comma lists as given (split in cli/cache_report.cpp: a vector option would
    // swallow the FILE arguments that follow)
    std::string capacities;
    std::string policies;  // empty: every policy the input supports
};

}  // namespace moe
