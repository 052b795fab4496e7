// Warnings about the input that every output carries (docs/FIGURES.md "Warnings"): a
// stable code per kind, for `warnings` in JSON, a line in text headers and the HTML report.
#pragma once

#include <string>
#include <vector>

#include "analytics/source_stats.hpp"
#include "cli/json_writer.hpp"

namespace moe {

// `"warnings": [{"code", "source", "count", "records", "excluded", "message"}, ...]`
// (count: runs or batches; records: records concerned; excluded: left out).
void write_warnings_json(JsonWriter& w, const std::vector<SourceStats>& sources);
// One "warning: ..." line per warning (the strided-view one is in the input summary).
std::string warnings_text(const std::vector<SourceStats>& sources);

}  // namespace moe
