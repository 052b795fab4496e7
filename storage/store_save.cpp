// Store::save: one transaction with every changed aggregate, the timeline increments and
// every source's counters, offset and stream state.
#include <ctime>

#include "storage/row_codec.hpp"
#include "storage/store.hpp"
#include "storage/varint.hpp"

namespace moe {

using namespace rows;

namespace {
double now_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

void Store::save(Aggregates& agg, std::span<SourceStats* const> sources, bool force) {
    sql::Transaction tx(db_);
    // Dirty flags are cleared only once the commit succeeded: a failed flush (disk full,
    // read-only file system) leaves everything to be written again by the next one.
    std::vector<bool*> written;

    auto meta = db_.prepare(
        "INSERT INTO meta(key, value) VALUES(?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    auto put_meta = [&](std::string_view k, const std::string& v) {
        meta.bind(1, k).bind(2, v).run();
    };
    put_meta("num_experts", std::to_string(agg.num_experts()));
    put_meta("num_experts_stated", agg.num_experts_stated() ? "1" : "0");
    put_meta("model_id", agg.model_id());
    put_meta("gate_dim", std::to_string(agg.gate_dim()));
    put_meta("ema_decay", std::to_string(agg.options().ema_decay));
    put_meta("bucket_seconds", std::to_string(agg.timeline().bucket_seconds()));

    auto layer = db_.prepare(
        "INSERT OR REPLACE INTO layer_stats(tag, layer, tokens, top_k, weighted_tokens, "
        "num_experts, "
        "hits, ema, ema_norm, weight_mass, cooc, logit_records, logit_moments, hist_logits, "
        "hist_probs, "
        "hist_prob_mass, weight_records, hist_weight_sum) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    auto gate = db_.prepare(
        "INSERT OR REPLACE INTO gate_pairs(tag, tokens, from_layer, to_layer, metric, pairs, n, "
        "mean, "
        "m2, min, max) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    auto save_layer = [&](const std::string& tag, int64_t id, LayerStats& l) {
        if (!l.dirty && !force) return;
        layer.bind(1, tag).bind(2, id).bind(3, static_cast<int64_t>(l.tokens));
        layer.bind(4, static_cast<int64_t>(l.top_k))
            .bind(5, static_cast<int64_t>(l.weighted_tokens));
        layer.bind(6, static_cast<int64_t>(l.num_experts())).bind_blob(7, as_bytes(l.hits));
        layer.bind_blob(8, as_bytes(l.ema.values())).bind(9, l.ema.norm());
        const std::string cooc = encode_varints(l.cooc.counts());
        layer.bind_blob(10, as_bytes(l.weight_mass))
            .bind_blob(11, std::as_bytes(std::span(cooc.data(), cooc.size())));
        layer.bind(12, static_cast<int64_t>(l.logits.records))
            .bind_blob(13, as_bytes(moments_of(l.logits)));
        layer.bind_blob(14, as_bytes(l.logits.logits.counts))
            .bind_blob(15, as_bytes(l.logits.probs.counts));
        layer.bind_blob(16, as_bytes(l.logits.topk_prob_mass.counts));
        layer.bind(17, static_cast<int64_t>(l.logits.weight_records));
        layer.bind_blob(18, as_bytes(l.logits.topk_weight_sum.counts)).run();
        written.push_back(&l.dirty);
    };
    for (TagId t = 0; t < agg.tag_count(); ++t) {
        TagStats& ts = agg.tag(t);
        save_layer(ts.name, -1, ts.global);
        for (size_t l = 0; l < ts.layers.size(); ++l)
            if (ts.layers[l]) save_layer(ts.name, static_cast<int64_t>(l), *ts.layers[l]);
        for (auto& [key, g] : ts.gates) {
            if (!g.dirty && !force) continue;
            for (size_t m = 0; m < kGateMetricCount; ++m) {
                const RunningStats& rs = g.metrics[m];
                gate.bind(1, ts.name).bind(2, key.tokens == GateTokens::first ? "first" : "all");
                gate.bind(3, static_cast<int64_t>(key.from_layer))
                    .bind(4, static_cast<int64_t>(key.to_layer));
                gate.bind(5, gate_metric_name(static_cast<GateMetric>(m)));
                gate.bind(6, static_cast<int64_t>(g.pairs)).bind(7, static_cast<int64_t>(rs.n));
                gate.bind(8, rs.mean).bind(9, rs.m2).bind(10, rs.min).bind(11, rs.max).run();
            }
            written.push_back(&g.dirty);
        }
    }

    // Timeline buckets are increments since the last save: added to what is stored.
    auto tl = db_.prepare(
        "INSERT INTO timeline(tag, layer, bucket, seconds, tokens, hits) VALUES(?,?,?,?,?,?) "
        "ON CONFLICT(tag, layer, bucket) DO UPDATE SET tokens = tokens + excluded.tokens, "
        "hits = moe_add_counts(hits, excluded.hits)");
    for (const auto& [key, b] : agg.timeline().buckets()) {
        tl.bind(1, agg.tag(key.tag).name)
            .bind(2, static_cast<int64_t>(key.layer))
            .bind(3, key.start);
        tl.bind(4, b.seconds)
            .bind(5, static_cast<int64_t>(b.tokens))
            .bind_blob(6, as_bytes(b.hits))
            .run();
    }
    if (retention_seconds_ > 0) {
        auto del = db_.prepare("DELETE FROM timeline WHERE bucket < ?");
        del.bind(1, static_cast<int64_t>(now_seconds()) - retention_seconds_).run();
    }

    auto src = db_.prepare(
        "INSERT OR REPLACE INTO sources(name, kind, tag, file_id, offset, file_size, bytes, lines, "
        "records, gate_records, meta_records, skipped_lines, skipped_samples, restarts, "
        "connections, connections_refused, batches_checked, batches_strided, stream_state, "
        "updated_at) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    auto rej = db_.prepare(
        "INSERT OR REPLACE INTO rejects(source, reason, count, samples) VALUES(?,?,?,?)");
    const double now = now_seconds();
    for (SourceStats* s : sources) {
        if (!s->dirty && !force) continue;
        src.bind(1, s->name).bind(2, s->kind).bind(3, s->tag).bind(4, s->file_id);
        src.bind(5, static_cast<int64_t>(s->offset)).bind(6, static_cast<int64_t>(s->file_size));
        src.bind(7, static_cast<int64_t>(s->bytes)).bind(8, static_cast<int64_t>(s->lines));
        src.bind(9, static_cast<int64_t>(s->records))
            .bind(10, static_cast<int64_t>(s->gate_records));
        src.bind(11, static_cast<int64_t>(s->meta_records))
            .bind(12, static_cast<int64_t>(s->skipped_lines));
        src.bind(13, join_lines(s->skipped_samples)).bind(14, static_cast<int64_t>(s->restarts));
        src.bind(15, static_cast<int64_t>(s->connections))
            .bind(16, static_cast<int64_t>(s->connections_refused));
        src.bind(17, static_cast<int64_t>(s->batches_checked));
        src.bind(18, static_cast<int64_t>(s->batches_strided));
        src.bind_blob(19, std::as_bytes(std::span(s->stream_state.data(), s->stream_state.size())));
        src.bind(20, now).run();
        for (int r = 0; r < kRejectReasonCount; ++r) {
            if (s->rejects[static_cast<size_t>(r)] == 0) continue;
            rej.bind(1, s->name).bind(2, reject_reason_name(static_cast<RejectReason>(r)));
            rej.bind(3, static_cast<int64_t>(s->rejects[static_cast<size_t>(r)]));
            rej.bind(4, join_lines(s->reject_samples[static_cast<size_t>(r)])).run();
        }
        written.push_back(&s->dirty);
    }
    tx.commit();
    for (bool* d : written)
        *d = false;
    agg.timeline().clear();  // written as increments: the next save starts from zero
}

}  // namespace moe
