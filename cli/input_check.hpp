// Whether FILE arguments held anything moescope reads: a file in which no format recognised
// a record (Markdown, a JSON object of another shape, an empty file), or a directory without
// any log, is named in one line with what was found there and the formats tried.
#pragma once

#include <string>
#include <vector>

#include "analytics/source_stats.hpp"
#include "cli/analyze.hpp"
#include "parsers/format.hpp"

namespace moe {

// `given`: the FILE arguments; `read`: expand_inputs(given), with `stats` from analyze_files
// in the same order. Returns one line per argument (a directory is one) that gave no record;
// throws NoDataError with the first of them when no argument gave any (exit 3).
std::vector<std::string> unrecognised_inputs(const std::vector<AnalyzeInput>& given,
                                             const std::vector<AnalyzeInput>& read,
                                             const std::vector<SourceStats>& stats, Format format);

// Prints each line of unrecognised_inputs() as a warning on stderr.
void warn_unrecognised(const std::vector<AnalyzeInput>& given,
                       const std::vector<AnalyzeInput>& read, const std::vector<SourceStats>& stats,
                       Format format);

}  // namespace moe
