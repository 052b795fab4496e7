// Gate-input distances between consecutive logged layers: the `gates` command and the
// "gate_pairs" section of `analyze`.
#pragma once

#include <string>

#include "analytics/aggregates.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"

namespace moe {

void write_gates_json(JsonWriter& w, const TagStats& tag, const QueryOptions& q);
std::string gates_text(const TagStats& tag, const QueryOptions& q);
std::string gates_csv(const TagStats& tag, const QueryOptions& q);

}  // namespace moe
