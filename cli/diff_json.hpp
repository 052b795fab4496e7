// The agreement figures of a routing diff under one set of JSON keys, for `diff --json` and
// the report's "Routing diff" section alike (tracing/topk_match.hpp, docs/FIGURES.md
// "Routing diff").
#pragma once

#include "cli/json_writer.hpp"
#include "tracing/topk_match.hpp"

namespace moe {

inline void write_agreement_json(JsonWriter& w, const AgreementSums& s) {
    w.field("aligned", s.aligned)
        .field("top1_agreement", s.top1_agreement())
        .field("overlap", s.mean_overlap())
        .field("exact_agreement", s.exact_agreement())
        .field("jaccard", s.mean_jaccard())
        .field("weight_mass_overlap", s.mean_weight_mass());
}

}  // namespace moe
