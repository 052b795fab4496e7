// Store::save: one transaction with the model facts, every changed aggregate, the timeline
// increments and every source's counters, offset and stream state. Columns: tables.cpp.
#include "analytics/wall_clock.hpp"
#include "storage/store.hpp"
#include "storage/tables.hpp"

namespace moe {

using namespace rows;

void Store::put_meta(std::string_view key, const std::string& value) {
    auto q = db_.prepare(meta_table().insert_sql());
    meta_table().put(q, {std::string(key), value});
}

void Store::save(Aggregates& agg, std::span<SourceStats* const> sources, bool force,
                 std::span<const StreamPosition> streams) {
    sql::Transaction tx(db_);
    // Dirty flags are cleared only once the commit succeeded: a failed flush (disk full,
    // read-only file system) leaves everything to be written again by the next one.
    std::vector<bool*> written;

    auto meta = db_.prepare(meta_table().insert_sql());
    for (const FactField& f : fact_fields())
        meta_table().put(meta, {std::string(f.key), fact_text(agg.facts(), f)});

    auto layer = db_.prepare(layer_table().insert_sql());
    auto gate = db_.prepare(gate_table().insert_sql());
    auto cache = db_.prepare(cache_table().insert_sql());
    auto transition = db_.prepare(transition_table().insert_sql());
    for (TagId t = 0; t < agg.tag_count(); ++t) {
        TagStats& ts = agg.tag(t);
        auto save_layer = [&](int64_t id, LayerStats& l) {
            if (!l.dirty && !force) return;
            layer_table().put(layer, LayerRow{ts.name, id, &l});
            for (const OnlineCache& c : l.caches.caches)
                cache_table().put(cache, CacheRow{ts.name, static_cast<int32_t>(id),
                                                  std::string(online_policy_name(c.spec().policy)),
                                                  c.spec().capacity, c.accesses, c.hits});
            written.push_back(&l.dirty);
        };
        save_layer(-1, ts.global);
        for (size_t l = 0; l < ts.layers.size(); ++l)
            if (ts.layers[l]) save_layer(static_cast<int64_t>(l), *ts.layers[l]);
        for (auto& [key, g] : ts.gates) {
            if (!g.dirty && !force) continue;
            for (size_t m = 0; m < kGateMetricCount; ++m)
                gate_table().put(
                    gate,
                    GateRow{ts.name, key, std::string(gate_metric_name(static_cast<GateMetric>(m))),
                            &g, m});
            written.push_back(&g.dirty);
        }
        for (auto& [from, table] : ts.transitions) {
            if (!table.dirty && !force) continue;
            transition_table().put(transition, TransitionRow{ts.name, from, &table});
            written.push_back(&table.dirty);
        }
    }
    auto diff = db_.prepare(diff_table().insert_sql());
    for (auto& [key, layers] : agg.live_diffs())
        for (auto& [l, d] : layers) {
            if (!d.dirty && !force) continue;
            diff_table().put(diff, DiffRow{key.first, key.second, l, d});
            written.push_back(&d.dirty);
        }

    // Timeline buckets are increments since the last save: added to what is stored.
    auto tl = db_.prepare(timeline_table().insert_sql(
        "INSERT",
        "ON CONFLICT(tag, layer, bucket) DO UPDATE SET tokens = tokens + "
        "excluded.tokens, hits = moe_add_counts(hits, excluded.hits)"));
    for (const auto& [key, b] : agg.timeline().buckets())
        timeline_table().put(tl, TimelineRow{agg.tag(key.tag).name, key.layer, key.start, b});
    if (retention_seconds_ > 0) {
        auto del = db_.prepare("DELETE FROM timeline WHERE bucket < ?");
        del.bind(1, static_cast<int64_t>(wall_clock_seconds()) - retention_seconds_).run();
    }
    // Roll-ups run with the first flush of each hour: their cutoffs move by the hour.
    const auto now_s = static_cast<int64_t>(wall_clock_seconds());
    const bool roll = rollup_ && now_s / 3600 != rolled_up_hour_;
    if (roll) rollup(now_s);

    auto src = db_.prepare(source_table().insert_sql());
    auto rej = db_.prepare(reject_table().insert_sql());
    const double now = wall_clock_seconds();
    for (SourceStats* s : sources) {
        if (!s->dirty && !force) continue;
        source_table().put(src, SourceRow{*s, now});
        for (size_t r = 0; r < static_cast<size_t>(kRejectReasonCount); ++r) {
            if (s->rejects[r] == 0) continue;
            reject_table().put(
                rej,
                RejectRow{s->name, std::string(reject_reason_name(static_cast<RejectReason>(r))),
                          s->rejects[r], s->reject_samples[r]});
        }
        written.push_back(&s->dirty);
    }
    auto pos = db_.prepare(stream_table().insert_sql());
    for (const StreamPosition& p : streams)
        stream_table().put(pos, StreamRow{p, now});
    tx.commit();
    if (roll) rolled_up_hour_ = now_s / 3600;
    for (bool* d : written)
        *d = false;
    agg.timeline().clear();  // written as increments: the next save starts from zero
}

bool Store::forget_source(const std::string& name) {
    sql::Transaction tx(db_);
    if (!db_.prepare("SELECT 1 FROM sources WHERE name = ?").bind(1, name).step()) return false;
    db_.prepare("DELETE FROM sources WHERE name = ?").bind(1, name).run();
    db_.prepare("DELETE FROM rejects WHERE source = ?").bind(1, name).run();
    tx.commit();
    return true;
}

}  // namespace moe
