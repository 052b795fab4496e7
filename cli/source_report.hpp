// Ingest health: per source bytes, lines, records, rejects by reason with samples, offset
// and lag (the `sources` command, and the input summary of `analyze`); the `tags` list.
#pragma once

#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"
#include "cli/json_writer.hpp"

namespace moe {

void write_sources_json(JsonWriter& w, const std::vector<SourceStats>& sources);
std::string sources_text(const std::vector<SourceStats>& sources);
std::string sources_csv(const std::vector<SourceStats>& sources);
// A warning line when a source shows the llama-server strided-view defect, else "".
std::string strided_warning(const SourceStats& s);

void write_tags_json(JsonWriter& w, const Aggregates& agg);
std::string tags_text(const Aggregates& agg);
std::string tags_csv(const Aggregates& agg);

}  // namespace moe
