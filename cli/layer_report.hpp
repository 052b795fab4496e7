// Per-layer routing figures (docs/FIGURES.md) as tables, JSON and CSV: the `layers`
// and `experts` commands and the matching sections of `analyze`.
#pragma once

#include <string>

#include "analytics/aggregates.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"

namespace moe {

// JSON: the "layers" array and the "global" object (all layers combined).
void write_layers_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                       const QueryOptions& q);
std::string layers_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);
std::string layers_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);
// `analyze --csv`: a row per (layer, expert) with the layer's figures (docs/FIGURES.md).
std::string layer_experts_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);

// One layer (or all layers combined when q.layer is empty): top/bottom experts.
void write_experts_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                        const QueryOptions& q);
std::string experts_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);
std::string experts_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);

}  // namespace moe
