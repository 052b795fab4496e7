#include "storage/tables.hpp"

#include "analytics/model_facts.hpp"
#include "analytics/quality.hpp"
#include "storage/row_codec.hpp"
#include "storage/varint.hpp"

namespace moe::rows {

namespace {

constexpr const char* kBlob = "BLOB NOT NULL";

// A little-endian vector of T (uint64 counts or float64 values).
template <class T, class Row, class Field>
Column<Row> vector_blob(std::string name, std::string doc, Field field) {
    return {std::move(name), kBlob, std::move(doc),
            [field](sql::Statement& q, int i, const Row& r) { q.bind_blob(i, as_bytes(field(r))); },
            [field](const sql::Statement& q, int i, Row& r) {
                const auto b = q.blob(i);
                if (b.size() % sizeof(T))
                    throw sql::StorageError("length not a multiple of its type");
                field(r) = from_blob<T>(b);
            }};
}

template <class Row, class Field>
Column<Row> histogram(std::string name, std::string doc, Field field) {
    return {std::move(name), kBlob, std::move(doc),
            [field](sql::Statement& q, int i, const Row& r) {
                q.bind_blob(i, as_bytes(field(r).counts));
            },
            [field](const sql::Statement& q, int i, Row& r) {
                auto counts = from_blob<uint64_t>(q.blob(i));
                if (counts.size() != field(r).counts.size())
                    throw sql::StorageError("wrong number of histogram bins");
                field(r).counts = std::move(counts);
            }};
}

template <class Row, class Field>
Column<Row> lines(std::string name, std::string doc, Field field) {
    return {std::move(name), "TEXT NOT NULL", std::move(doc),
            [field](sql::Statement& q, int i, const Row& r) { q.bind(i, join_lines(field(r))); },
            [field](const sql::Statement& q, int i, Row& r) { field(r) = split_lines(q.text(i)); }};
}

std::span<const std::byte> bytes_of(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

// Opaque bytes (a resumable parser state) kept in a std::string.
template <class Row, class Field>
Column<Row> opaque(std::string name, std::string doc, Field field) {
    return {std::move(name), kBlob, std::move(doc),
            [field](sql::Statement& q, int i, const Row& r) { q.bind_blob(i, bytes_of(field(r))); },
            [field](const sql::Statement& q, int i, Row& r) {
                const auto b = q.blob(i);
                field(r).assign(reinterpret_cast<const char*>(b.data()), b.size());
            }};
}

// A column's field: r.member, for the const Row of put and the Row of get alike.
#define FIELD(member)      \
    [](auto& r) -> auto& { \
        return r.member;   \
    }

template <class Row>
Column<Row> tag_column() {
    return text<Row>("tag", "tag; \"all\" holds every record", FIELD(tag));
}
template <class Row>
Column<Row> layer_column() {
    return integer<Row>("layer", "layer id; -1: all layers combined", FIELD(layer));
}
template <class Row>
Column<Row> updated_at_column() {
    return real<Row>("updated_at", "REAL NOT NULL", "seconds since the epoch of the last write",
                     FIELD(updated_at));
}

}  // namespace

void finish(LayerRow& r) {
    LayerStats& l = *r.s;
    const size_t E = l.hits.size();
    if (static_cast<size_t>(r.num_experts) != E || r.ema.size() != E || l.weight_mass.size() != E)
        throw sql::StorageError("per-expert vectors of different lengths");
    if (l.top1.empty()) l.top1.assign(E, 0);  // written before top-1 counts were kept
    if (l.top1.size() != E) throw sql::StorageError("per-expert vectors of different lengths");
    l.ema.assign(r.ema, r.ema_norm);
    if (!r.cooc.empty() && !l.cooc.assign(E, std::move(r.cooc)))
        throw sql::StorageError("co-occurrence matrix of the wrong size");
    l.dirty = false;
}

void finish(GateRow& r) {
    if (r.g->metrics[r.m].n == 0) r.g->metrics[r.m] = RunningStats{};  // NULL mean etc.
    r.g->dirty = false;
}

const Table<MetaRow>& meta_table() {
    using R = MetaRow;
    static const Table<R> t{"meta",
                            {text<R>("key", "fact name", FIELD(key)),
                             text<R>("value", "its value as text", FIELD(value))},
                            1};
    return t;
}

// The records each data-quality check left out (analytics/quality.hpp): one column each.
template <class Row, class Counters>
void add_left_out_columns(Table<Row>& t, Counters counters) {
    for (const QualityCheck& c : quality_checks()) {
        if (!c.suspect) continue;
        const auto i = static_cast<size_t>(*c.suspect);
        t.columns.push_back(added(integer<Row>(
                                      "left_out_" + std::string(c.code),
                                      "records the " + std::string(c.label) +
                                          " check left out (docs/FIGURES.md \"Data quality\")",
                                      [ counters, i ](auto& r) -> auto& { return counters(r)[i]; }),
                                  "0"));
    }
}

const Table<LayerRow>& layer_table() {
    using R = LayerRow;
    static const Table<R> t = [] {
        Table<R> t{
            "layer_stats",
            {
                tag_column<R>(),
                layer_column<R>(),
                integer<R>("tokens", "routing records (tokens) T", FIELD(s->tokens)),
                integer<R>("top_k", "experts per record k (of the first record)", FIELD(s->top_k)),
                integer<R>("weighted_tokens", "records that carried routing weights",
                           FIELD(s->weighted_tokens)),
                integer<R>(
                    "counted",
                    "selections from engine totals (count records); equal to the sum of hits: "
                    "count-only data, no per-token figures (docs/FIGURES.md)",
                    FIELD(s->counted)),
                {"num_experts", "INTEGER NOT NULL", "E: the length of every per-expert vector",
                 [](sql::Statement& q, int i, const R& r) {
                     q.bind(i, static_cast<int64_t>(r.s->num_experts()));
                 },
                 [](const sql::Statement& q, int i, R& r) { r.num_experts = q.int64(i); }},
                vector_blob<uint64_t, R>(
                    "hits",
                    "uint64 per expert: records that selected e (h_e); see \"vectors\" below",
                    FIELD(s->hits)),
                {"ema", kBlob, "float64 per expert: EMA of 1/k per selection, decay meta.ema_decay",
                 [](sql::Statement& q, int i, const R& r) {
                     q.bind_blob(i, as_bytes(r.s->ema.values()));
                 },
                 [](const sql::Statement& q, int i, R& r) {
                     r.ema = from_blob<double>(q.blob(i));
                 }},
                {"ema_norm", "REAL NOT NULL",
                 "1 - d^T: divide ema by it for the bias-corrected EMA",
                 [](sql::Statement& q, int i, const R& r) { q.bind(i, r.s->ema.norm()); },
                 [](const sql::Statement& q, int i, R& r) { r.ema_norm = q.real(i); }},
                vector_blob<double, R>("weight_mass", "float64 per expert: sum of routing weights",
                                       FIELD(s->weight_mass)),
                {"cooc", kBlob,
                 "LEB128 varints: C[a][b] for a < b, row by row (records selecting both); empty "
                 "for "
                 "layer -1 and E > 512",
                 [](sql::Statement& q, int i, const R& r) {
                     q.bind_blob(i, bytes_of(encode_varints(r.s->cooc.counts())));
                 },
                 [](const sql::Statement& q, int i, R& r) {
                     auto v = decode_varints(q.blob(i));
                     if (!v) throw sql::StorageError("truncated varints");
                     r.cooc = std::move(*v);
                 }},
                integer<R>("logit_records", "records that carried router logits",
                           FIELD(s->logits.records)),
                {"logit_moments", kBlob,
                 "5 float64 per expert: n, mean, m2, min, max of raw logits",
                 [](sql::Statement& q, int i, const R& r) {
                     q.bind_blob(i, as_bytes(moments_of(r.s->logits)));
                 },
                 [](const sql::Statement& q, int i, R& r) {
                     restore_moments(r.s->logits, from_blob<double>(q.blob(i)));
                 }},
                histogram<R>(
                    "hist_logits",
                    "uint64 counts: every raw logit; underflow, 80 bins of 0.5 over [-20, 20), "
                    "overflow",
                    FIELD(s->logits.logits)),
                histogram<R>("hist_probs",
                             "uint64 counts: every softmax probability; underflow, 50 bins of 0.02 "
                             "over [0, 1), "
                             "overflow",
                             FIELD(s->logits.probs)),
                histogram<R>(
                    "hist_prob_mass",
                    "uint64 counts: softmax mass of the selected experts; bins as hist_probs",
                    FIELD(s->logits.topk_prob_mass)),
                integer<R>("weight_records", "records whose weights fill hist_weight_sum",
                           FIELD(s->logits.weight_records)),
                histogram<R>("hist_weight_sum",
                             "uint64 counts: sum of the top-k routing weights; underflow, 40 bins "
                             "of 0.05 over "
                             "[0, 2), overflow",
                             FIELD(s->logits.topk_weight_sum)),
                {"top1", "BLOB NOT NULL DEFAULT x''",
                 "uint64 per expert: records whose first-ranked expert is e; empty in databases "
                 "written before schema version 2",
                 [](sql::Statement& q, int i, const R& r) { q.bind_blob(i, as_bytes(r.s->top1)); },
                 [](const sql::Statement& q, int i, R& r) {
                     const auto b = q.blob(i);
                     if (b.size() % sizeof(uint64_t))
                         throw sql::StorageError("length not a multiple of its type");
                     r.s->top1 = from_blob<uint64_t>(b);
                 }},
            },
            2};
        add_left_out_columns(
            t, [](auto& r) -> auto& { return r.s->left_out; });
        return t;
    }();
    return t;
}

const Table<GateRow>& gate_table() {
    using R = GateRow;
    static const Table<R> t{
        "gate_pairs",
        {
            tag_column<R>(),
            {"tokens", "TEXT NOT NULL", "'all' tokens or only the 'first' (token index 0)",
             [](sql::Statement& q, int i, const R& r) {
                 q.bind(i, r.key.tokens == GateTokens::first ? "first" : "all");
             },
             [](const sql::Statement& q, int i, R& r) {
                 r.key.tokens = q.text(i) == "first" ? GateTokens::first : GateTokens::all;
             }},
            integer<R>("from_layer", "the earlier layer", FIELD(key.from_layer)),
            integer<R>("to_layer", "the next logged layer", FIELD(key.to_layer)),
            text<R>("metric", "cosine_similarity, euclidean, pearson, ... (docs/FIGURES.md)",
                    FIELD(metric)),
            integer<R>("pairs", "vector pairs compared", FIELD(g->pairs)),
            integer<R>("n", "pairs where the metric is defined", FIELD(g->metrics[r.m].n)),
            real<R>("mean", "REAL", "mean of the metric; NULL when n = 0",
                    FIELD(g->metrics[r.m].mean)),
            real<R>("m2", "REAL", "sum of squared deviations (population variance = m2 / n)",
                    FIELD(g->metrics[r.m].m2)),
            real<R>("min", "REAL", "smallest value", FIELD(g->metrics[r.m].min)),
            real<R>("max", "REAL", "largest value", FIELD(g->metrics[r.m].max)),
        },
        5};
    return t;
}

const Table<SourceRow>& source_table() {
    using R = SourceRow;
    static const Table<R> t{
        "sources",
        {
            text<R>("name", "absolute file path, tcp://HOST:PORT, unix:PATH or stdin",
                    FIELD(s.name)),
            text<R>("kind", "file, tcp, unix or stdin", FIELD(s.kind)),
            text<R>("tag", "the source's tag; empty: \"all\" only", FIELD(s.tag)),
            text<R>("file_id",
                    "dev:inode of a followed file; sha256:HEX of an imported file's bytes",
                    FIELD(s.file_id)),
            integer<R>("offset", "bytes: committed read offset (end of the last complete line)",
                       FIELD(s.offset)),
            integer<R>("file_size", "bytes: the file's size at the last check", FIELD(s.file_size)),
            integer<R>("bytes", "bytes read", FIELD(s.bytes)),
            integer<R>("lines", "complete lines seen", FIELD(s.lines)),
            integer<R>("records", "routing records counted", FIELD(s.records)),
            integer<R>("gate_records", "gate-input vectors accepted", FIELD(s.gate_records)),
            integer<R>("meta_records", "meta records applied", FIELD(s.meta_records)),
            integer<R>("skipped_lines", "headers, blank and other log lines",
                       FIELD(s.skipped_lines)),
            lines<R>("skipped_samples", "newline-separated samples of skipped lines",
                     FIELD(s.skipped_samples)),
            integer<R>("restarts", "truncations and rotations seen", FIELD(s.restarts)),
            integer<R>("connections", "connections accepted (listeners)", FIELD(s.connections)),
            integer<R>("connections_refused", "connections closed at once: too many open",
                       FIELD(s.connections_refused)),
            integer<R>("batches_checked", "multi-token batches checked for the strided-view defect",
                       FIELD(s.batches_checked)),
            integer<R>("batches_strided", "batches that looked defective",
                       FIELD(s.batches_strided)),
            integer<R>("identical_runs", "runs of >= 256 identical routings of one layer",
                       FIELD(s.identical_runs)),
            integer<R>("identical_records", "records in those runs", FIELD(s.identical_records)),
            integer<R>("identical_excluded",
                       "records of those runs left out (all but each run's first, unless "
                       "--keep-suspect)",
                       FIELD(s.identical_excluded)),
            added(integer<R>("strided_streams",
                             "streams (runs of the log between restarts) whose strided-view "
                             "verdict was defective",
                             FIELD(s.strided_streams)),
                  "0"),
            added(integer<R>("strided_excluded",
                             "rows after the first of multi-token batches of those streams left "
                             "out (unless --keep-suspect)",
                             FIELD(s.strided_excluded)),
                  "0"),
            opaque<R>("stream_state", "opaque resumable parser state as of offset",
                      FIELD(s.stream_state)),
            updated_at_column<R>(),
        },
        1};
    return t;
}

const Table<StreamRow>& stream_table() {
    using R = StreamRow;
    static const Table<R> t{
        "streams",
        {
            text<R>("stream", "the stream id of an acknowledged stream (its client's hello line)",
                    FIELD(p.stream)),
            text<R>("source", "sources.name of the listener it last came through", FIELD(p.source)),
            integer<R>("seq",
                       "number of its last line counted (lines numbered from 1): committed with "
                       "the counts, acknowledged to the client after the commit",
                       FIELD(p.seq)),
            opaque<R>("stream_state", "opaque resumable parser state as of seq", FIELD(p.state)),
            updated_at_column<R>(),
        },
        1};
    return t;
}

const Table<RejectRow>& reject_table() {
    using R = RejectRow;
    static const Table<R> t{
        "rejects",
        {
            text<R>("source", "sources.name", FIELD(source)),
            text<R>("reason", "malformed, expert_out_of_range, duplicate_expert, ...",
                    FIELD(reason)),
            integer<R>("count", "records rejected", FIELD(count)),
            lines<R>("samples", "newline-separated samples of rejected lines", FIELD(samples)),
        },
        2};
    return t;
}

const Table<TimelineRow>& timeline_table() {
    using R = TimelineRow;
    static const Table<R> t{
        "timeline",
        {
            tag_column<R>(),
            layer_column<R>(),
            integer<R>("bucket", "bucket start, seconds since the epoch (UTC)", FIELD(bucket)),
            integer<R>("seconds",
                       "bucket width, seconds: meta.bucket_seconds, 3600 or 86400 once rolled up",
                       FIELD(c.seconds)),
            integer<R>("tokens", "records in the bucket", FIELD(c.tokens)),
            {"hits", kBlob,
             "sparse varints: the selections per expert in the bucket, only non-zero ones "
             "(\"Encodings\"; uint64 per expert before schema version 3)",
             [](sql::Statement& q, int i, const R& r) {
                 q.bind_blob(i, bytes_of(encode_sparse_counts(r.c.hits)));
             },
             [](const sql::Statement& q, int i, R& r) {
                 auto v = decode_sparse_counts(q.blob(i));
                 if (!v) throw sql::StorageError("malformed sparse counts");
                 r.c.hits = std::move(*v);
             }},
        },
        3};
    return t;
}

const Table<CacheRow>& cache_table() {
    using R = CacheRow;
    static const Table<R> t{
        "live_cache",
        {
            tag_column<R>(),
            integer<R>("layer", "layer id", FIELD(layer)),
            text<R>("policy", "'lru' or 'lfu' (docs/FIGURES.md \"Cache simulation\")",
                    FIELD(policy)),
            integer<R>("capacity", "cache slots per layer (moescoped --cache-capacity)",
                       FIELD(capacity)),
            integer<R>("accesses", "selections simulated (one access each)", FIELD(accesses)),
            integer<R>("hits", "accesses that found the expert cached", FIELD(hits)),
        },
        4};
    return t;
}

const Table<KdeRow>& kde_table() {
    using R = KdeRow;
    static const Table<R> t{
        "kde_fit",
        {
            text<R>("tag", "the reference tag fitted", FIELD(tag)),
            integer<R>("layer", "layer id", FIELD(layer)),
            text<R>("value",
                    "the fitted quantity: 'top1_weight', 'trim2_logits', 'popular1_weight', ... "
                    "(docs/FIGURES.md \"Reference distributions\")",
                    FIELD(value)),
            integer<R>("n", "reference values fitted", FIELD(n)),
            real<R>("bandwidth", "REAL NOT NULL", "Scott's bandwidth h, in the value's unit",
                    FIELD(bandwidth)),
            real<R>("lo", "REAL NOT NULL", "the CDF table's first point: min - 5h", FIELD(lo)),
            real<R>("hi", "REAL NOT NULL", "the CDF table's last point: max + 5h", FIELD(hi)),
            vector_blob<double, R>("cdf", "float64: the KDE's CDF at evenly spaced points lo .. hi",
                                   FIELD(cdf)),
            real<R>("fitted_at", "REAL NOT NULL", "when it was fitted, seconds since the epoch",
                    FIELD(fitted_at)),
            added(integer<R>("expert",
                             "the expert whose values were fitted (the reference's P-th most "
                             "selected, for popularP_* values); -1 for the other values",
                             FIELD(expert)),
                  "-1"),
        },
        3};
    return t;
}

TransitionTable finish(TransitionRow& r) {
    if (r.num_experts < 0 || r.num_experts > kMaxExpert + 1)
        throw sql::StorageError("transition table of a wrong expert count");
    auto t = TransitionTable::restore(static_cast<uint32_t>(r.num_experts), std::move(r.cells),
                                      std::move(r.from), std::move(r.to), r.tokens);
    if (!t) throw sql::StorageError("transition table of the wrong size");
    return std::move(*t);
}

namespace {
// Sparse varints of a count vector (a transition table's cells or marginals), which a table
// of few used pairs keeps small.
template <class Row>
Column<Row> sparse_counts(std::string name, std::string doc,
                          const std::vector<uint64_t>& (TransitionTable::*of)() const,
                          std::vector<uint64_t> Row::*into) {
    return {std::move(name), kBlob, std::move(doc),
            [of](sql::Statement& q, int i, const Row& r) {
                q.bind_blob(i, bytes_of(encode_sparse_counts((r.t->*of)())));
            },
            [into](const sql::Statement& q, int i, Row& r) {
                auto v = decode_sparse_counts(q.blob(i));
                if (!v) throw sql::StorageError("malformed sparse counts");
                r.*into = std::move(*v);
            }};
}
}  // namespace

const Table<TransitionRow>& transition_table() {
    using R = TransitionRow;
    static const Table<R> t{
        "transitions",
        {
            tag_column<R>(),
            integer<R>("from_layer", "layer l of the pair (l, l + 1)", FIELD(from_layer)),
            {"num_experts", "INTEGER NOT NULL", "E: the table is E x E",
             [](sql::Statement& q, int i, const R& r) {
                 q.bind(i, static_cast<int64_t>(r.t->num_experts()));
             },
             [](const sql::Statement& q, int i, R& r) { r.num_experts = q.int64(i); }},
            {"tokens", "INTEGER NOT NULL", "N: tokens seen at both layers",
             [](sql::Statement& q, int i, const R& r) {
                 q.bind(i, static_cast<int64_t>(r.t->tokens()));
             },
             [](const sql::Statement& q, int i, R& r) {
                 r.tokens = static_cast<uint64_t>(q.int64(i));
             }},
            sparse_counts<R>("counts",
                             "sparse varints (\"Encodings\") of E x E: T[a][b], tokens selecting "
                             "a at l and b at l + 1, row a by row",
                             &TransitionTable::cells, &R::cells),
            sparse_counts<R>("from_tokens", "sparse varints of E: n_a, tokens selecting a at l",
                             &TransitionTable::from_counts, &R::from),
            sparse_counts<R>("to_tokens", "sparse varints of E: m_b, tokens selecting b at l + 1",
                             &TransitionTable::to_counts, &R::to),
        },
        2};
    return t;
}

const Table<DiffRow>& diff_table() {
    using R = DiffRow;
    static const Table<R> t{
        "live_diff",
        {
            text<R>("tag_a", "run A: the first tag of moescoped --diff A:B", FIELD(tag_a)),
            text<R>("tag_b", "run B: the second tag", FIELD(tag_b)),
            integer<R>("layer", "layer id", FIELD(layer)),
            integer<R>("aligned", "tokens of this layer seen in both runs",
                       FIELD(d.agreement.aligned)),
            integer<R>("top1", "aligned tokens with the same first-ranked expert",
                       FIELD(d.agreement.top1)),
            integer<R>("exact", "aligned tokens with the same expert set",
                       FIELD(d.agreement.exact)),
            real<R>("overlap", "REAL NOT NULL", "sum over aligned tokens of |A and B| / k",
                    FIELD(d.agreement.overlap)),
            real<R>("jaccard", "REAL NOT NULL", "sum over aligned tokens of |A and B| / |A or B|",
                    FIELD(d.agreement.jaccard)),
            integer<R>("weighted", "aligned tokens whose both selections carry weights",
                       FIELD(d.agreement.weighted)),
            real<R>("weight_mass", "REAL NOT NULL",
                    "sum over weighted tokens of the shared weight mass",
                    FIELD(d.agreement.weight_mass)),
            integer<R>("only_a", "records of A counted without a partner (evicted or duplicate)",
                       FIELD(d.only_a)),
            integer<R>("only_b", "records of B counted without a partner", FIELD(d.only_b)),
            integer<R>("evicted",
                       "of only_a + only_b: pushed out of the window (moescoped --diff-window)",
                       FIELD(d.evicted)),
        },
        3};
    return t;
}

namespace {
template <class Row>
std::pair<std::string, std::string> markdown(const Table<Row>& t) {
    std::string s = "| column | type | meaning |\n| --- | --- | --- |\n";
    for (size_t i = 0; i < t.columns.size(); ++i) {
        const auto& c = t.columns[i];
        s += "| `" + c.name + "`" + (i < t.key_columns ? " (key)" : "") + " | " + c.sql_type() +
             " | " + c.doc +
             (c.added_default.empty() ? ""
                                      : " (added within the schema version: rows written "
                                        "before it read as " +
                                            c.added_default + ")") +
             " |\n";
    }
    return {t.name, s};
}
}  // namespace

std::vector<std::pair<std::string, std::string>> schema_markdown() {
    std::string keys =
        "| key | set by | on restart and merge | meaning |\n| --- | --- | --- | --- |\n";
    auto rule = [](FactRule r) {
        switch (r) {
            case FactRule::must_match:
                return "must be equal";
            case FactRule::once_known:
                return "must be equal once known";
            case FactRule::expert_count:
                return "stated: equal; inferred: must fit";
            case FactRule::qualifier:
                return "with num_experts";
            case FactRule::local:
                return "not compared";
        }
        return "";
    };
    for (const FactField& f : fact_fields())
        keys += "| `" + std::string(f.key) + "` | " +
                (f.option.empty() ? "the data" : "`" + std::string(f.option) + "`") + " | " +
                rule(f.rule) + " | " + std::string(f.doc) + " |\n";
    keys +=
        "| `database_id` | created once | must differ | random id of this database |\n"
        "| `merged_ids` | `moescope merge` | must not meet | ids of the databases merged "
        "into this one, space-separated |\n";
    return {markdown(meta_table()),     {"meta keys", keys},          markdown(layer_table()),
            markdown(gate_table()),     markdown(source_table()),     markdown(reject_table()),
            markdown(timeline_table()), markdown(cache_table()),      markdown(kde_table()),
            markdown(stream_table()),   markdown(transition_table()), markdown(diff_table())};
}

#undef FIELD

}  // namespace moe::rows
