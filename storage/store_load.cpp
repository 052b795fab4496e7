// Store::load*: a database back into Aggregates and SourceStats (CLI, daemon restart, merge).
#include "storage/row_codec.hpp"
#include "storage/store.hpp"
#include "storage/varint.hpp"

namespace moe {

using namespace rows;

void Store::load(Aggregates& agg) const {
    {
        auto q = db_.prepare("SELECT key, value FROM meta");
        uint32_t experts = 0;
        bool stated = false;
        while (q.step()) {
            const std::string k = q.text(0), v = q.text(1);
            if (k == "num_experts")
                experts = static_cast<uint32_t>(std::stoul(v));
            else if (k == "num_experts_stated")
                stated = v == "1";
            else if (k == "model_id")
                agg.set_model_id(v);
            else if (k == "gate_dim")
                agg.set_gate_dim(static_cast<uint32_t>(std::stoul(v)));
        }
        if (stated)
            agg.state_num_experts(experts);
        else
            agg.set_inferred_num_experts(experts);
    }
    {
        auto q = db_.prepare(
            "SELECT tag, layer, tokens, top_k, weighted_tokens, hits, ema, ema_norm, weight_mass, "
            "cooc, "
            "logit_records, logit_moments, hist_logits, hist_probs, hist_prob_mass, "
            "weight_records, "
            "hist_weight_sum, num_experts FROM layer_stats ORDER BY tag, layer");
        while (q.step()) {
            TagStats& t = agg.tag(agg.tag_id(q.text(0)));
            const int64_t id = q.int64(1);
            if (id < -1 || id > kMaxLayer) throw StorageError(db_.path() + ": corrupt layer id");
            LayerStats& l = id < 0 ? t.global : t.layer_or_create(static_cast<int32_t>(id));
            l.tokens = static_cast<uint64_t>(q.int64(2));
            l.top_k = static_cast<uint32_t>(q.int64(3));
            l.weighted_tokens = static_cast<uint64_t>(q.int64(4));
            l.hits = from_blob<uint64_t>(q.blob(5));
            const auto ema = from_blob<double>(q.blob(6));
            l.ema.assign(ema, q.real(7));
            l.weight_mass = from_blob<double>(q.blob(8));
            if (l.ema.size() != l.hits.size() || l.weight_mass.size() != l.hits.size())
                throw StorageError(db_.path() + ": corrupt layer_stats row");
            auto cooc = decode_varints(q.blob(9));
            if (!cooc || (!cooc->empty() && !l.cooc.assign(l.hits.size(), std::move(*cooc))))
                throw StorageError(db_.path() + ": corrupt co-occurrence matrix");
            l.logits.records = static_cast<uint64_t>(q.int64(10));
            restore_moments(l.logits, from_blob<double>(q.blob(11)));
            restore_histogram(l.logits.logits, from_blob<uint64_t>(q.blob(12)), db_.path());
            restore_histogram(l.logits.probs, from_blob<uint64_t>(q.blob(13)), db_.path());
            restore_histogram(l.logits.topk_prob_mass, from_blob<uint64_t>(q.blob(14)), db_.path());
            l.logits.weight_records = static_cast<uint64_t>(q.int64(15));
            restore_histogram(l.logits.topk_weight_sum, from_blob<uint64_t>(q.blob(16)),
                              db_.path());
            l.dirty = false;
        }
    }
    {
        auto q = db_.prepare(
            "SELECT tag, tokens, from_layer, to_layer, metric, pairs, n, mean, m2, min, max "
            "FROM gate_pairs");
        while (q.step()) {
            TagStats& t = agg.tag(agg.tag_id(q.text(0)));
            GatePairKey key{q.text(1) == "first" ? GateTokens::first : GateTokens::all,
                            static_cast<int32_t>(q.int64(2)), static_cast<int32_t>(q.int64(3))};
            GatePairStats& g = t.gates[key];
            g.pairs = static_cast<uint64_t>(q.int64(5));
            const std::string metric = q.text(4);
            for (size_t m = 0; m < kGateMetricCount; ++m) {
                if (gate_metric_name(static_cast<GateMetric>(m)) != metric) continue;
                RunningStats& rs = g.metrics[m];
                rs.n = static_cast<uint64_t>(q.int64(6));
                if (rs.n)
                    rs.mean = q.real(7), rs.m2 = q.real(8), rs.min = q.real(9), rs.max = q.real(10);
            }
            g.dirty = false;
        }
    }
    agg.pad_to_num_experts();
}

std::vector<SourceStats> Store::load_sources() const {
    std::vector<SourceStats> out;
    auto q = db_.prepare(
        "SELECT name, kind, tag, file_id, offset, file_size, bytes, lines, records, gate_records, "
        "meta_records, skipped_lines, skipped_samples, restarts, connections, connections_refused, "
        "batches_checked, batches_strided, stream_state "
        "FROM sources ORDER BY name");
    while (q.step()) {
        SourceStats s;
        s.name = q.text(0);
        s.kind = q.text(1);
        s.tag = q.text(2);
        s.file_id = q.text(3);
        s.offset = static_cast<uint64_t>(q.int64(4));
        s.file_size = static_cast<uint64_t>(q.int64(5));
        s.bytes = static_cast<uint64_t>(q.int64(6));
        s.lines = static_cast<uint64_t>(q.int64(7));
        s.records = static_cast<uint64_t>(q.int64(8));
        s.gate_records = static_cast<uint64_t>(q.int64(9));
        s.meta_records = static_cast<uint64_t>(q.int64(10));
        s.skipped_lines = static_cast<uint64_t>(q.int64(11));
        s.skipped_samples = split_lines(q.text(12));
        s.restarts = static_cast<uint64_t>(q.int64(13));
        s.connections = static_cast<uint64_t>(q.int64(14));
        s.connections_refused = static_cast<uint64_t>(q.int64(15));
        s.batches_checked = static_cast<uint64_t>(q.int64(16));
        s.batches_strided = static_cast<uint64_t>(q.int64(17));
        const auto state = q.blob(18);
        s.stream_state.assign(reinterpret_cast<const char*>(state.data()), state.size());
        s.dirty = false;
        out.push_back(std::move(s));
    }
    auto r = db_.prepare("SELECT source, reason, count, samples FROM rejects");
    while (r.step()) {
        const std::string name = r.text(0), reason = r.text(1);
        for (auto& s : out) {
            if (s.name != name) continue;
            for (int i = 0; i < kRejectReasonCount; ++i) {
                if (reject_reason_name(static_cast<RejectReason>(i)) != reason) continue;
                s.rejects[static_cast<size_t>(i)] = static_cast<uint64_t>(r.int64(2));
                s.reject_samples[static_cast<size_t>(i)] = split_lines(r.text(3));
            }
        }
    }
    return out;
}

void Store::load_timeline(Aggregates& agg) const {
    auto q = db_.prepare(
        "SELECT tag, layer, bucket, seconds, tokens, hits FROM timeline ORDER BY bucket");
    while (q.step()) {
        BucketKey key{agg.tag_id(q.text(0)), static_cast<int32_t>(q.int64(1)), q.int64(2)};
        BucketCounts c;
        c.seconds = q.int64(3);
        c.tokens = static_cast<uint64_t>(q.int64(4));
        c.hits = from_blob<uint64_t>(q.blob(5));
        agg.timeline().add_counts(key, c);
    }
}

}  // namespace moe
