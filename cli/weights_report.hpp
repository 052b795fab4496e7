// `moescope weights MODEL`: router and expert weight similarity of a GGUF or safetensors
// model (models/weight_similarity), optionally joined with observed routing (--db). The
// HTML report (`report --model`) embeds the same JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"
#include "models/weight_similarity.hpp"

namespace moe {

struct CommandArgs;

// The model file and what to compare (`weights`, and `report --model`).
struct WeightsArgs {
    std::string model;
    std::string db;                        // routing database to join (weights --db); "" for none
    bool router = false, experts = false;  // neither: both
};

// Observed routing of one similar pair (--db): co-selection lift and both experts' shares.
struct PairUsage {
    uint64_t count = 0;                         // times selected together
    double lift = 0, share_a = 0, share_b = 0;  // NaN when the layer has no records
};

struct WeightsResult {
    std::string path;
    models::ModelFacts facts;
    std::optional<models::RouterSimilarity> router;
    std::vector<models::RouterDelta> by_delta, periodic;
    std::optional<models::ExpertSimilarity> experts;
    std::string experts_skipped;   // why there is no expert section, when not asked for
    std::vector<PairUsage> usage;  // per similar pair, with --db
    uint64_t bytes = 0;            // weight bytes processed
    double seconds = 0;
};

// Reads the model and computes what `w` and `a` ask for (a.q.delta_max, a.q.periodic,
// a.q.top); with w.db, joins the routing of tag a.q.tag.
WeightsResult analyse_weights(const WeightsArgs& w, const CommandArgs& a);

void write_weights_json(JsonWriter& w, const WeightsResult& r);
std::string weights_text(const WeightsResult& r, const QueryOptions& q);
std::string weights_csv(const WeightsResult& r);

}  // namespace moe
