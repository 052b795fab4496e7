// The Prometheus text exposition (format 0.0.4) of a daemon's live statistics: hits per
// tag/layer/expert and tokens per layer as counters, per-layer imbalance gauges, and ingest
// counters, rejects by reason and lag per source.
#pragma once

#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/source_stats.hpp"

namespace moe {

std::string prometheus_text(const Aggregates& agg, const std::vector<const SourceStats*>& sources);

// A label value with \, " and newline escaped as the exposition format requires.
std::string prometheus_label(std::string_view v);

}  // namespace moe
