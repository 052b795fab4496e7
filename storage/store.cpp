#include "storage/store.hpp"

#include "storage/varint.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

#include <sqlite3.h>
#include <bit>
#include <cstring>
#include <ctime>

namespace moe {

static_assert(std::endian::native == std::endian::little, "blobs are stored little-endian");

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS layer_stats(
    tag TEXT NOT NULL,
    layer INTEGER NOT NULL,            -- -1: all layers combined
    tokens INTEGER NOT NULL,
    top_k INTEGER NOT NULL,
    weighted_tokens INTEGER NOT NULL,
    num_experts INTEGER NOT NULL,
    hits BLOB NOT NULL,                -- uint64 little-endian, one per expert
    ema BLOB NOT NULL,                 -- float64, one per expert
    ema_norm REAL NOT NULL,            -- 1 - d^T
    weight_mass BLOB NOT NULL,         -- float64, one per expert
    cooc BLOB NOT NULL,                -- LEB128 varints: upper triangle, C[a][b] for a < b, row by row
    logit_records INTEGER NOT NULL,
    logit_moments BLOB NOT NULL,       -- per expert: n, mean, m2, min, max (5 float64)
    hist_logits BLOB NOT NULL,         -- uint64 counts: underflow, bins, overflow
    hist_probs BLOB NOT NULL,
    hist_prob_mass BLOB NOT NULL,
    weight_records INTEGER NOT NULL,
    hist_weight_sum BLOB NOT NULL,
    PRIMARY KEY(tag, layer)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gate_pairs(
    tag TEXT NOT NULL,
    tokens TEXT NOT NULL,              -- 'all' or 'first'
    from_layer INTEGER NOT NULL,
    to_layer INTEGER NOT NULL,
    metric TEXT NOT NULL,
    pairs INTEGER NOT NULL,
    n INTEGER NOT NULL,
    mean REAL, m2 REAL, min REAL, max REAL,
    PRIMARY KEY(tag, tokens, from_layer, to_layer, metric)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sources(
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    tag TEXT NOT NULL,
    file_id TEXT NOT NULL,
    offset INTEGER NOT NULL,
    file_size INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    records INTEGER NOT NULL,
    gate_records INTEGER NOT NULL,
    meta_records INTEGER NOT NULL,
    skipped_lines INTEGER NOT NULL,
    skipped_samples TEXT NOT NULL,     -- newline-separated
    restarts INTEGER NOT NULL,
    connections INTEGER NOT NULL,
    connections_refused INTEGER NOT NULL,
    batches_checked INTEGER NOT NULL,
    batches_strided INTEGER NOT NULL,
    stream_state BLOB NOT NULL,        -- resumable parser/pairing state at `offset`
    updated_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timeline(
    tag TEXT NOT NULL,
    layer INTEGER NOT NULL,            -- -1: all layers combined
    bucket INTEGER NOT NULL,           -- bucket start, seconds since the epoch (UTC)
    seconds INTEGER NOT NULL,          -- bucket width
    tokens INTEGER NOT NULL,
    hits BLOB NOT NULL,                -- uint64 little-endian, one per expert
    PRIMARY KEY(tag, layer, bucket)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timeline_by_bucket ON timeline(bucket);
CREATE TABLE IF NOT EXISTS rejects(
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    samples TEXT NOT NULL,             -- newline-separated
    PRIMARY KEY(source, reason)) WITHOUT ROWID;
)sql";

template <class T>
std::span<const std::byte> as_bytes(const std::vector<T>& v) {
    return std::as_bytes(std::span<const T>(v));
}

template <class T>
std::vector<T> from_blob(std::span<const std::byte> b) {
    std::vector<T> v(b.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
    return v;
}

std::vector<double> moments_of(const LogitStats& ls) {
    std::vector<double> out;
    out.reserve(ls.per_expert.size() * 5);
    for (const RunningStats& r : ls.per_expert)
        out.insert(out.end(), {static_cast<double>(r.n), r.mean, r.m2, r.min, r.max});
    return out;
}

void restore_moments(LogitStats& ls, const std::vector<double>& v) {
    ls.per_expert.assign(v.size() / 5, RunningStats{});
    for (size_t e = 0; e < ls.per_expert.size(); ++e) {
        RunningStats& r = ls.per_expert[e];
        r.n = static_cast<uint64_t>(v[e * 5]);
        r.mean = v[e * 5 + 1];
        r.m2 = v[e * 5 + 2];
        r.min = v[e * 5 + 3];
        r.max = v[e * 5 + 4];
    }
}

void restore_histogram(Histogram& h, std::vector<uint64_t> counts, const std::string& db) {
    if (counts.size() != h.counts.size()) throw StorageError(db + ": corrupt histogram");
    h.counts = std::move(counts);
}

std::string join_lines(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        if (!s.empty()) s += '\n';
        s += x;
    }
    return s;
}

std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> v;
    size_t start = 0;
    while (start < s.size()) {
        size_t nl = s.find('\n', start);
        if (nl == std::string::npos) nl = s.size();
        v.push_back(s.substr(start, nl - start));
        start = nl + 1;
    }
    return v;
}

// moe_add_counts(a, b): element-wise sum of two uint64 blobs (the longer one's length), so
// timeline increments can be added to stored buckets inside an UPSERT.
void add_counts_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
    const auto a = std::span(static_cast<const std::byte*>(sqlite3_value_blob(argv[0])),
                             static_cast<size_t>(sqlite3_value_bytes(argv[0])));
    const auto b = std::span(static_cast<const std::byte*>(sqlite3_value_blob(argv[1])),
                             static_cast<size_t>(sqlite3_value_bytes(argv[1])));
    std::vector<uint64_t> x = from_blob<uint64_t>(a), y = from_blob<uint64_t>(b);
    if (x.size() < y.size()) x.resize(y.size(), 0);
    for (size_t i = 0; i < y.size(); ++i)
        x[i] += y[i];
    sqlite3_result_blob64(ctx, x.data(), x.size() * sizeof(uint64_t), SQLITE_TRANSIENT);
}

double now_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

Store Store::open_for_writing(const std::string& path) {
    const bool existed = ::access(path.c_str(), F_OK) == 0;
    Store s(sql::Database(path, sql::Database::Mode::read_write_create));
    if (!existed)
        ::chmod(path.c_str(), 0640);  // aggregates may reveal workload: not world-readable
    sqlite3_create_function_v2(s.db_.handle(), "moe_add_counts", 2,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, add_counts_fn, nullptr,
                               nullptr, nullptr);
    s.db_.exec("PRAGMA journal_mode=WAL");
    s.db_.exec("PRAGMA synchronous=NORMAL");
    s.migrate();
    return s;
}

Store Store::open_read_only(const std::string& path) {
    if (::access(path.c_str(), F_OK) != 0)
        throw StorageError("database " + path + " does not exist (start moescoped with --db " +
                           path + ", or use `moescope analyze FILE`)");
    try {
        Store s(sql::Database(path, sql::Database::Mode::read_only));
        s.check_version();
        return s;
    } catch (const StorageError&) {
        // A WAL database on a read-only file system cannot get its -shm file: read it as
        // immutable (nobody can be writing it there). Other errors are reported as they are.
        if (::access(path.c_str(), W_OK) == 0 || errno != EROFS) throw;
        Store s(sql::Database(path, sql::Database::Mode::immutable));
        s.check_version();
        return s;
    }
}

void Store::check_version() const {
    const int64_t v = db_.query_int("PRAGMA user_version");
    if (v == 0) throw StorageError(db_.path() + " is not a moescope database (no schema)");
    if (v > kSchemaVersion)
        throw StorageError(db_.path() + " has schema version " + std::to_string(v) +
                           ", newer than this moescope (" + std::to_string(kSchemaVersion) + ")");
}

void Store::migrate() {
    const int64_t v = db_.query_int("PRAGMA user_version");
    if (v > kSchemaVersion) check_version();
    if (v == kSchemaVersion) return;
    if (v == 0 && db_.query_int("SELECT count(*) FROM sqlite_master") > 0)
        throw StorageError(db_.path() +
                           " is an SQLite database but not a moescope one; refusing to write");
    sql::Transaction tx(db_);
    db_.exec(kSchema);
    db_.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
}

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

}  // namespace moe

namespace moe {

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
