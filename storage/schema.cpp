#include "storage/schema.hpp"

namespace moe {

// Every statement is idempotent (IF NOT EXISTS): migrate() runs it inside one transaction.
const char* const kSchemaSql = R"sql(
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

}  // namespace moe
