// The moescope tables, each one column list (see table.hpp); docs/SCHEMA.md documents
// them and tests/unit/test_schema.cpp checks that it documents every column.
#pragma once

#include <string>
#include <vector>

#include "analytics/gate_pair_stats.hpp"
#include "analytics/layer_stats.hpp"
#include "analytics/source_stats.hpp"
#include "analytics/timeline.hpp"
#include "storage/store.hpp"
#include "storage/table.hpp"

namespace moe::rows {

struct MetaRow {
    std::string key, value;
};

// One LayerStats under (tag, layer); the other fields hold columns read until finish().
struct LayerRow {
    std::string tag;
    int64_t layer = -1;  // -1: all layers combined
    LayerStats* s = nullptr;
    int64_t num_experts = 0;
    std::vector<double> ema;
    double ema_norm = 0;
    std::vector<uint64_t> cooc;
};
// Puts the columns read into s, checking that their lengths agree (throws StorageError).
void finish(LayerRow& r);

// One metric of one gate pair.
struct GateRow {
    std::string tag;
    GatePairKey key;
    std::string metric;
    GatePairStats* g = nullptr;
    size_t m = 0;  // index of `metric`
};
void finish(GateRow& r);

struct SourceRow {
    SourceStats s;
    double updated_at = 0;  // seconds since the epoch
};

struct StreamRow {
    StreamPosition p;
    double updated_at = 0;  // seconds since the epoch
};

struct RejectRow {
    std::string source, reason;
    uint64_t count = 0;
    std::vector<std::string> samples;
};

struct TimelineRow {
    std::string tag;
    int32_t layer = -1;
    int64_t bucket = 0;
    BucketCounts c;
};

// The counters of one live cache of one (tag, layer) (analytics/online_cache.hpp).
struct CacheRow {
    std::string tag;
    int32_t layer = -1;
    std::string policy;
    int64_t capacity = 0;
    uint64_t accesses = 0, hits = 0;
};

// One stored reference fit (`moescope kde --fit`): a Gaussian KDE of one quantity of one
// layer of one tag, kept as its CDF table (decisions/kde.hpp, docs/FIGURES.md "Reference
// distributions").
struct KdeRow {
    std::string tag;
    int32_t layer = -1;
    std::string value;  // the fitted quantity, e.g. "top1_weight" (docs/FIGURES.md)
    uint64_t n = 0;
    double bandwidth = 0, lo = 0, hi = 0;
    std::vector<double> cdf;
    double fitted_at = 0;  // seconds since the epoch
    int32_t expert = -1;   // the expert whose values were fitted (popularP_*), else -1
};

// One layer pair's live transition table of one tag (moescoped --affinity): `t` when
// written; the other fields hold the columns read until finish().
struct TransitionRow {
    std::string tag;
    int32_t from_layer = -1;
    const TransitionTable* t = nullptr;
    int64_t num_experts = 0;
    uint64_t tokens = 0;
    std::vector<uint64_t> cells, from, to;
};
// The table the columns read describe; throws StorageError when their lengths disagree.
TransitionTable finish(TransitionRow& r);

// One layer of a live diff of two tags (moescoped --diff A:B).
struct DiffRow {
    std::string tag_a, tag_b;
    int32_t layer = -1;
    DiffLayerCounts d;
};

const Table<MetaRow>& meta_table();
const Table<LayerRow>& layer_table();
const Table<GateRow>& gate_table();
const Table<SourceRow>& source_table();
const Table<StreamRow>& stream_table();
const Table<RejectRow>& reject_table();
const Table<TimelineRow>& timeline_table();
const Table<CacheRow>& cache_table();
const Table<KdeRow>& kde_table();
const Table<TransitionRow>& transition_table();
const Table<DiffRow>& diff_table();

// Each table's column part of docs/SCHEMA.md (a markdown table), generated.
std::vector<std::pair<std::string, std::string>> schema_markdown();

}  // namespace moe::rows
