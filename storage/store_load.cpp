// Store::load*: a database back into Aggregates and SourceStats (CLI, daemon restart, merge).
// Columns: tables.cpp.
#include "storage/store.hpp"

#include <optional>

#include "storage/tables.hpp"

namespace moe {

using namespace rows;

std::optional<std::string> Store::get_meta(std::string_view key) const {
    auto q = db_.prepare("SELECT value FROM meta WHERE key = ?");
    q.bind(1, key);
    if (!q.step()) return std::nullopt;
    return q.text(0);
}

bool Store::read_facts(ModelFacts& facts) const {
    bool any = false;
    for (const FactField& f : fact_fields()) {
        const auto v = get_meta(f.key);
        if (!v) continue;
        if (!set_fact(facts, f, *v))
            throw StorageError(db_.path() + ": corrupt meta value " + std::string(f.key) + " = '" +
                               *v + "'");
        any = true;
    }
    return any;
}

void Store::load(Aggregates& agg, Tracing tracing) const {
    ModelFacts stored = agg.facts();
    if (read_facts(stored)) agg.adopt_facts(stored);
    layer_table().read(
        db_, "tag, layer",
        [&](LayerRow& r) {
            if (r.layer < -1 || r.layer > kMaxLayer) throw StorageError("layer id out of range");
            TagStats& t = agg.tag(agg.tag_id(r.tag));
            r.s = r.layer < 0 ? &t.global : &t.layer_or_create(static_cast<int32_t>(r.layer));
            return true;
        },
        [](LayerRow& r) { finish(r); });
    gate_table().read(
        db_, "",
        [&](GateRow& r) {
            for (size_t m = 0; m < kGateMetricCount; ++m) {
                if (gate_metric_name(static_cast<GateMetric>(m)) != r.metric) continue;
                r.g = &agg.tag(agg.tag_id(r.tag)).gates[r.key];
                r.m = m;
                return true;
            }
            return false;  // a metric this version does not know
        },
        [](GateRow& r) { finish(r); });
    if (db_.has_table(cache_table().name))  // databases before 0.3 have no live caches
        cache_table().read(
            db_, "", [](CacheRow&) { return true; },
            [&](CacheRow& r) {
                const auto p = parse_online_policy(r.policy);
                LayerStats* l = nullptr;
                if (const auto t = agg.find_tag(r.tag); t && r.layer >= 0) {
                    auto& layers = agg.tag(*t).layers;
                    if (static_cast<size_t>(r.layer) < layers.size())
                        l = layers[static_cast<size_t>(r.layer)].get();
                }
                if (!p || !l || r.capacity < 0 || r.capacity > UINT32_MAX || r.hits > r.accesses)
                    throw StorageError(db_.path() + ": corrupt live_cache row");
                OnlineCache& c = l->caches.of({*p, static_cast<uint32_t>(r.capacity)});
                c.accesses = r.accesses;
                c.hits = r.hits;
            });
    if (tracing == Tracing::load) load_tracing(agg);
    agg.pad_to_num_experts();
}

// The daemon's live transitions and diffs; tables a database written before them lacks
// read as none.
void Store::load_tracing(Aggregates& agg) const {
    if (db_.has_table(transition_table().name))
        transition_table().read(
            db_, "tag, from_layer",
            [](TransitionRow& r) {
                if (r.from_layer < 0 || r.from_layer >= kMaxLayer)
                    throw StorageError("layer id out of range");
                return true;
            },
            [&](TransitionRow& r) {
                TransitionTable t = finish(r);
                agg.charge_bytes(TransitionTable::bytes(t.num_experts()));
                agg.tag(agg.tag_id(r.tag)).transitions[r.from_layer] = std::move(t);
            });
    if (db_.has_table(diff_table().name))
        diff_table().read(
            db_, "tag_a, tag_b, layer", [](DiffRow&) { return true; },
            [&](DiffRow& r) {
                if (r.layer < 0 || r.layer > kMaxLayer || r.d.evicted > r.d.only_a + r.d.only_b)
                    throw StorageError(db_.path() + ": corrupt live_diff row");
                agg.live_diffs()[{r.tag_a, r.tag_b}][r.layer] = r.d;
            });
}

std::vector<SourceStats> Store::load_sources() const {
    std::vector<SourceStats> out;
    source_table().read(
        db_, "name", [](SourceRow&) { return true; },
        [&](SourceRow& r) {
            r.s.dirty = false;
            r.s.last_seen = r.updated_at;
            out.push_back(std::move(r.s));
        });
    reject_table().read(
        db_, "", [](RejectRow&) { return true; },
        [&](RejectRow& r) {
            for (auto& s : out) {
                if (s.name != r.source) continue;
                for (size_t i = 0; i < static_cast<size_t>(kRejectReasonCount); ++i) {
                    if (reject_reason_name(static_cast<RejectReason>(i)) != r.reason) continue;
                    s.rejects[i] = r.count;
                    s.reject_samples[i] = r.samples;
                }
            }
        });
    return out;
}

std::vector<StreamPosition> Store::load_streams() const {
    std::vector<StreamPosition> out;
    if (!db_.has_table(stream_table().name)) return out;  // written before it existed
    stream_table().read(
        db_, "stream", [](StreamRow&) { return true; },
        [&](StreamRow& r) { out.push_back(std::move(r.p)); });
    return out;
}

void Store::load_timeline(Aggregates& agg) const {
    timeline_table().read(
        db_, "bucket", [](TimelineRow&) { return true; },
        [&](TimelineRow& r) {
            agg.timeline().add_counts({agg.tag_id(r.tag), r.layer, r.bucket}, r.c);
        });
}

void Store::load_timeline_window(Aggregates& agg, int64_t since, int64_t until, Window how) const {
    auto add = [&](TimelineRow& r) {
        agg.timeline().add_counts({agg.tag_id(r.tag), r.layer, r.bucket}, r.c);
    };
    std::optional<int64_t> first;  // the window's first bucket start (rows come in order)
    auto add_window = [&](TimelineRow& r) {
        if (how == Window::per_bucket) return add(r);
        if (!first) first = r.bucket;
        r.c.seconds = r.bucket + r.c.seconds - *first;  // the key's width: up to this row's end
        agg.timeline().add_counts({agg.tag_id(r.tag), r.layer, *first}, r.c);
    };
    const std::string in_window =
        "bucket >= " + std::to_string(since) + " AND bucket < " + std::to_string(until);
    // The edges first (outside the window they change no figure), then the window.
    const std::string edges =
        "(SELECT min(bucket) FROM timeline), (SELECT max(bucket) FROM timeline)";
    timeline_table().read(
        db_, "bucket", [](TimelineRow&) { return true; }, add,
        "bucket IN (" + edges + ") AND NOT (" + in_window + ")");
    timeline_table().read(
        db_, "bucket", [](TimelineRow&) { return true; }, add_window, in_window);
}

}  // namespace moe
