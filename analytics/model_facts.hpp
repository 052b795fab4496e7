// Model facts: what must agree between the runs of one database and the nodes of a merge
// (the expert count, the EMA decay, the timeline bucket width, vector lengths, ...).
// Declared once, as fact_fields(): storage saves and loads the meta table from it, the daemon
// checks a restart against it and `moescope merge` checks and combines databases with it.
// docs/SCHEMA.md "meta" lists the keys.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include "analytics/timeline.hpp"

namespace moe {

struct AnalyticsOptions;

struct ModelFacts {
    uint32_t num_experts = 0;  // stated, else the largest id seen + 1 (0: none yet)
    bool num_experts_stated = false;
    uint32_t top_k = 0;          // stated by --top-k or a meta record (0: each layer's first
                                 // records decide, ingest/topk_probation.hpp)
    double ema_decay = 0.99999;  // --ema-decay
    int64_t bucket_seconds = kDefaultBucketSeconds;  // --bucket-s: timeline bucket width
    uint32_t logits_len = 0;  // length of the first logits vector (0: none yet)
    uint32_t gate_dim = 0;    // length of the first gate-input vector (0: none yet)
    std::string model_id;     // from a meta record ("": unknown)
    uint64_t max_tags = 256;  // --max-tags: further tags are counted under "all" only

    // The facts a run is configured with (learned ones unknown).
    static ModelFacts configured(const AnalyticsOptions& o);
};

// How two values of a fact relate (one database's and another's, or a database's and a
// restarted daemon's options).
enum class FactRule {
    must_match,    // a setting the stored figures depend on: equal, or refused
    once_known,    // learned from the data (0 or "": not yet): two known values must be equal
    expert_count,  // num_experts: stated counts equal; ids seen must fit a stated count
    qualifier,     // num_experts_stated: compared and combined with the field before it
    local,         // a limit of the running process: saved for the record, never compared
};

struct FactField {
    std::string_view key;     // meta table key
    std::string_view option;  // the option that sets it ("" if learned only)
    FactRule rule;
    std::variant<uint32_t ModelFacts::*, uint64_t ModelFacts::*, int64_t ModelFacts::*,
                 double ModelFacts::*, bool ModelFacts::*, std::string ModelFacts::*>
        member;
    std::string_view doc;  // meaning and unit (docs/SCHEMA.md)
};

// Every fact, in the order of docs/SCHEMA.md "meta keys".
std::span<const FactField> fact_fields();

// The stored text of a fact (shortest round-trip form for doubles) and back; false when
// `text` is not a valid value.
std::string fact_text(const ModelFacts& f, const FactField& field);
bool set_fact(ModelFacts& f, const FactField& field, std::string_view text);
// fact_text, plus " (largest id + 1)" for an expert count that was not stated.
std::string fact_display(const ModelFacts& f, const FactField& field);

struct FactConflict {
    const FactField* field;
    std::string ours, theirs;  // fact_display of each side
};

// The first fact on which `ours` and `theirs` cannot both hold.
std::optional<FactConflict> find_conflict(const ModelFacts& ours, const ModelFacts& theirs);
// Takes what `from` knows: must_match values (checked or, for queries, describing the
// stored figures), learned values still unknown here, the larger or stated expert count.
// `local` facts stay as they are.
void combine(ModelFacts& into, const ModelFacts& from);

// Thrown when a database's facts differ from a run's options or from another database's.
// A usage error: the one-line message names the option or fact and both values.
class IncompatibleFacts : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

}  // namespace moe
