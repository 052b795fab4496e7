// The event model: what every parser produces and every aggregate consumes.
// Records are views into parser-owned buffers; they are valid only during the sink call.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace moe {

// One token's routing decision at one MoE layer.
struct RoutingRecord {
    std::string_view tag;  // empty: use the source's tag
    int32_t layer = -1;
    int64_t token = -1;                // index within the forward pass; -1 when unknown
    std::span<const int32_t> experts;  // top-k ids in rank order
    std::span<const float> weights;    // top-k weights, empty when absent
    std::span<const float> logits;     // full router logits (one per expert), empty when absent
    double timestamp = std::numeric_limits<double>::quiet_NaN();  // seconds since the epoch
    // The request (sample, problem) id as written (a JSON number as its digits); empty when
    // the record names none. With `token` it says which token of which request this is.
    std::string_view request;
    std::string_view phase;  // "prefill", "decode", ... as the record states it; empty: none
    // Where the record stands in its stream, set by ingest (ingest/forward_position.hpp), not
    // by parsers: the forward pass (a new one when the layer drops back) and the row within
    // its batch (the run of consecutive records of one layer), both from 0; -1 when unknown.
    // They align llama-server logs, whose lines carry neither request nor token.
    int64_t pass = -1;
    int32_t row = -1;
};

// The router's input vector for one token at one layer ("gate input").
struct GateRecord {
    std::string_view tag;
    int32_t layer = -1;
    int64_t token = -1;
    std::span<const float> values;
};

// Engine totals: how many selections experts [first_expert, first_expert + counts.size())
// got at one layer, with no per-token detail (an engine's own expert-load recorder:
// SGLang, lmdeploy, llama.cpp moe-trace; docs/ARCHITECTURE.md "Count-only sources").
// Counts are doubles because engines dump float tensors; they must be finite, >= 0 and
// whole (checked by the aggregates).
struct CountRecord {
    std::string_view tag;
    int32_t layer = -1;
    int32_t first_expert = 0;
    std::span<const double> counts;
    // A recorder's dump: totals since the engine started, rewritten in place (not new
    // selections as a moe-trace row is). The daemon refuses these (engine_totals).
    bool snapshot = false;
};

// Model facts announced by an engine; zero / empty means "not stated".
struct MetaRecord {
    std::string_view tag;
    std::string_view model_id;
    uint32_t num_experts = 0;
    uint32_t top_k = 0;
};

// Why a line was not turned into records. Stable names (see reject_reason_name) are
// stored in the database and printed by `moescope sources`.
enum class RejectReason : uint8_t {
    malformed,            // does not follow the syntax of its format
    invalid_json,         // NDJSON line that is not valid JSON
    missing_field,        // valid JSON without the fields a record needs
    expert_out_of_range,  // id >= num_experts (once known), or negative
    layer_out_of_range,   // layer id negative or absurdly large
    duplicate_expert,     // the same id twice in one top-k
    topk_changed,         // top-k size differs from earlier records of that layer
    non_finite,           // NaN or Inf in weights, logits or a gate vector
    wrong_vector_length,  // gate vector or logits length differs from earlier ones
    line_too_long,        // longer than the per-line limit
    binary,               // control bytes: not text
    partial_line,         // connection closed or file rotated in the middle of a line
    memory_budget,        // a new (tag, layer) would exceed the aggregates' memory budget
    bad_timestamp,        // a timestamp that is not a number, or implausible (before 2000, ...)
    invalid_meta,         // a meta record stating 0 or > 4,096 experts, or top-k 0 or > 256
    auth_failed,          // a connection refused: no or wrong token, failed TLS handshake
    other_model,          // a stream refused: its first record contradicts the database's E or k
    engine_totals,        // engine totals sent to the daemon: cumulative snapshots, import them
    count_
};

inline constexpr int kRejectReasonCount = static_cast<int>(RejectReason::count_);

constexpr std::string_view reject_reason_name(RejectReason r) {
    switch (r) {
        case RejectReason::malformed:
            return "malformed";
        case RejectReason::invalid_json:
            return "invalid_json";
        case RejectReason::missing_field:
            return "missing_field";
        case RejectReason::expert_out_of_range:
            return "expert_out_of_range";
        case RejectReason::layer_out_of_range:
            return "layer_out_of_range";
        case RejectReason::duplicate_expert:
            return "duplicate_expert";
        case RejectReason::topk_changed:
            return "topk_changed";
        case RejectReason::non_finite:
            return "non_finite";
        case RejectReason::wrong_vector_length:
            return "wrong_vector_length";
        case RejectReason::line_too_long:
            return "line_too_long";
        case RejectReason::binary:
            return "binary";
        case RejectReason::partial_line:
            return "partial_line";
        case RejectReason::memory_budget:
            return "memory_budget";
        case RejectReason::bad_timestamp:
            return "bad_timestamp";
        case RejectReason::invalid_meta:
            return "invalid_meta";
        case RejectReason::auth_failed:
            return "auth_failed";
        case RejectReason::other_model:
            return "other_model";
        case RejectReason::engine_totals:
            return "engine_totals";
        case RejectReason::count_:
            break;
    }
    return "unknown";
}

// Sanity bounds that keep a hostile line from allocating gigabytes of per-layer state.
// (Real models: about 100 MoE layers and 384 routed experts at most.)
inline constexpr int32_t kMaxLayer = 1023;
inline constexpr int32_t kMaxExpert = 4095;
inline constexpr size_t kMaxTopK = 256;
// How much of a rejected line or document is kept as its sample (docs/INPUTS.md "Bad input").
inline constexpr size_t kRejectSampleBytes = 160;
// The start of a rejected text, as kept in its sample (SourceStats cuts it on a UTF-8
// character boundary).
inline std::string_view reject_sample(std::string_view text) {
    return text.substr(0, kRejectSampleBytes);
}
// A numeric timestamp above this many seconds (the year 5138) is taken as milliseconds.
inline constexpr double kMillisecondTimestampAbove = 1e11;

}  // namespace moe
