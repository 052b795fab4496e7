// `moescope analyze FILE...`: the daemon's pipeline run once over files, no database.
#pragma once

#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "ingest/stream_ingest.hpp"
#include "parsers/format.hpp"
#include "parsers/line_splitter.hpp"

namespace moe {

struct AnalyzeInput {
    std::string path;  // "-" reads standard input
    std::string tag;   // from FILE=TAG; empty: only "all"
    std::string dir;   // the directory argument it was read for (expand_inputs); "": given
};

// "path=tag" -> {path, tag}; a path containing '=' can be given as "path=" (empty tag).
AnalyzeInput parse_input_spec(const std::string& spec);

// Feeds every input (a directory: its files, cli/input_files.hpp) through the same
// StreamIngest as the daemon. Throws std::runtime_error with the path when a file cannot be
// read. `observer` sees every accepted record. With `threads` > 1 a plain regular file is
// read by that many threads (ingest/parallel_ingest.hpp) unless an observer needs the
// records in order, and only while nothing is counted yet. A file of another model than
// what `agg` holds (the files before it; import: the database) is refused at its first
// record (StreamIngest::refuse_other_model): one other_model reject naming both, nothing of
// it counted, where mixing would give phantom experts and a wrong k.
std::vector<SourceStats> analyze_files(const std::vector<AnalyzeInput>& inputs, Format format,
                                       Aggregates& agg,
                                       size_t max_line = LineSplitter::kDefaultMaxLine,
                                       const RecordObserver& observer = {}, unsigned threads = 1,
                                       bool into_database = false);

}  // namespace moe
