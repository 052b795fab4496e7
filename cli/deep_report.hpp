// The deeper analyses of docs/FIGURES.md as tables, JSON and CSV: co-occurrence (`cooc`), layer
// correlation and periodicity (`corr`), tag comparison (`compare`), router logits
// (`logits`) and hits over time (`timeline`).
#pragma once

#include <string>

#include "analytics/aggregates.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"
#include "cli/table.hpp"

namespace moe {

// cooc: top pairs of one layer (or every layer with q.layer unset) by q.by; --matrix: E x E.
void write_cooc_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                     const QueryOptions& q);
std::string cooc_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);
std::string cooc_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);

void write_corr_json(JsonWriter& w, const Aggregates& agg, const TagStats& tag,
                     const QueryOptions& q);
std::string corr_text(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);
std::string corr_csv(const Aggregates& agg, const TagStats& tag, const QueryOptions& q);

void write_compare_json(JsonWriter& w, const Aggregates& agg, const TagStats& a, const TagStats& b,
                        const QueryOptions& q);
std::string compare_text(const Aggregates& agg, const TagStats& a, const TagStats& b,
                         const QueryOptions& q);
std::string compare_csv(const Aggregates& agg, const TagStats& a, const TagStats& b,
                        const QueryOptions& q);

void write_logits_json(JsonWriter& w, const TagStats& tag, const QueryOptions& q);
std::string logits_text(const TagStats& tag, const QueryOptions& q);
std::string logits_csv(const TagStats& tag, const QueryOptions& q);

void write_timeline_json(JsonWriter& w, const Aggregates& agg, TagId tag, const QueryOptions& q);
std::string timeline_text(const Aggregates& agg, TagId tag, const QueryOptions& q);
std::string timeline_csv(const Aggregates& agg, TagId tag, const QueryOptions& q);

std::string iso_utc(int64_t seconds);

}  // namespace moe
