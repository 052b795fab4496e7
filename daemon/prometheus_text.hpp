// The Prometheus text exposition (format 0.0.4) of a daemon's live statistics: hits per
// tag/layer/expert and tokens per layer as counters, per-layer imbalance gauges, and ingest
// counters, rejects by reason and lag per source. Its size is bounded whatever the input
// (ExpositionLimits; docs/GUARANTEES.md): a hostile client must not turn a scrape into
// hundreds of megabytes.
#pragma once

#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "analytics/figures.hpp"
#include "analytics/source_stats.hpp"
#include "decisions/placement_map.hpp"

namespace moe {

// Every metric name, in one place (docs/FIGURES.md maps them to the report's figures).
namespace metric {
inline constexpr const char* expert_hits = "moescope_expert_hits_total";
inline constexpr const char* layer_tokens = "moescope_layer_tokens_total";
// A per-layer figure's gauge: moescope_layer_<key> (analytics/figures.hpp).
inline std::string layer_figure(const Figure& f) {
    return "moescope_layer_" + std::string(f.key);
}
inline constexpr const char* cache_accesses = "moescope_cache_accesses_total";
inline constexpr const char* cache_hits = "moescope_cache_hits_total";
inline constexpr const char* cache_hit_rate = "moescope_cache_hit_rate";
inline constexpr const char* placement_balancedness = "moescope_placement_balancedness";
inline constexpr const char* placement_imbalance = "moescope_placement_imbalance";
inline constexpr const char* placement_gpu_load = "moescope_placement_gpu_load_total";
inline constexpr const char* source_bytes = "moescope_source_bytes_total";
inline constexpr const char* source_lines = "moescope_source_lines_total";
inline constexpr const char* source_records = "moescope_source_records_total";
inline constexpr const char* source_gate_vectors = "moescope_source_gate_vectors_total";
inline constexpr const char* source_skipped_lines = "moescope_source_skipped_lines_total";
inline constexpr const char* source_lag_bytes = "moescope_source_lag_bytes";
inline constexpr const char* source_rejects = "moescope_source_rejects_total";
inline constexpr const char* source_left_out = "moescope_source_left_out_records_total";
inline constexpr const char* source_connections = "moescope_source_connections_total";
inline constexpr const char* source_connections_refused =
    "moescope_source_connections_refused_total";
inline constexpr const char* source_open_connections = "moescope_source_open_connections";
inline constexpr const char* last_commit = "moescope_last_commit_timestamp_seconds";
inline constexpr const char* experts = "moescope_experts";
inline constexpr const char* series_omitted = "moescope_exposition_series_omitted";
// moescoped --affinity (daemon/live_affinity.hpp)
inline constexpr const char* affinity_mi = "moescope_affinity_mutual_information_bits";
inline constexpr const char* affinity_tokens = "moescope_affinity_tokens_total";
inline constexpr const char* affinity_unpaired = "moescope_affinity_unpaired_records_total";
inline constexpr const char* affinity_waiting = "moescope_affinity_waiting_records";
// moescoped --diff A:B (daemon/live_diff.hpp)
inline constexpr const char* diff_overlap = "moescope_diff_overlap";
inline constexpr const char* diff_top1 = "moescope_diff_top1_agreement";
inline constexpr const char* diff_aligned = "moescope_diff_aligned_total";
inline constexpr const char* diff_unmatched = "moescope_diff_unmatched_records_total";
inline constexpr const char* diff_evicted = "moescope_diff_evicted_records_total";
inline constexpr const char* diff_waiting = "moescope_diff_waiting_records";
}  // namespace metric

// What one scrape may contain. Tags beyond the first max_tags (besides "all"), or whose
// escaped name is longer than max_tag_label bytes, are summed under tag="other"; layers
// beyond the first max_layers of a tag appear only in its layer="all"; per-expert samples
// stop at max_expert_samples (whole layers at a time). What was left out is counted in
// moescope_exposition_series_omitted.
struct ExpositionLimits {
    size_t max_tags = 16;
    size_t max_tag_label = 64;
    size_t max_layers = 256;
    size_t max_expert_samples = 32768;
};

// A deployed placement to watch (moescoped --placement FILE): its per-GPU balance on the
// live load (docs/FIGURES.md "Placement", live gauges).
struct WatchedPlacement {
    PlacementMap map;
    size_t gpus = 1;
};

std::string prometheus_text(const Aggregates& agg, const std::vector<const SourceStats*>& sources,
                            const ExpositionLimits& limits = {},
                            const WatchedPlacement* placement = nullptr);

// moescope_last_commit_timestamp_seconds: when the daemon last committed to its database
// (every flush commits, changed or not), so `time() - ...` is how stale the database is.
std::string prometheus_last_commit(double unix_seconds);

// "# HELP" and "# TYPE" of a metric family, and one sample `name{labels} v` (no braces for
// empty labels), for the exposition parts rendered elsewhere (live affinity, live diff).
void prometheus_header(std::string& s, const char* name, const char* type, const char* help);
void prometheus_sample(std::string& s, const char* name, const std::string& labels, double v);

// A label value with \, " and newline escaped as the exposition format requires.
std::string prometheus_label(std::string_view v);

}  // namespace moe
