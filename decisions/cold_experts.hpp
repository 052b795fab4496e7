// Cold experts: per layer, the experts whose share of the layer's selections is below a
// threshold, with where they are not cold (the tag that uses them most), because a rarely
// picked expert is often a specialist for one prompt class (docs/FIGURES.md "Cold experts").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"

namespace moe {

struct ColdExpert {
    int32_t layer = -1;
    uint32_t expert = 0;
    uint64_t hits = 0;
    double share = 0;       // h_e / S of the layer in the tag
    double mass_share = 0;  // weight mass share; NaN when the layer carried no weights
    // Among the other tags (not "all", not the tag asked), the one where the expert's share
    // of that layer is highest; empty when there is none with selections.
    std::string hottest_tag;
    double hottest_share = 0;
    bool specialist() const { return !hottest_tag.empty() && hottest_share >= share_threshold; }
    double share_threshold = 0;
};

struct ColdLayer {
    int32_t layer = -1;
    uint32_t experts = 0;  // E
    uint32_t cold = 0;     // of which below the threshold
    uint64_t selections = 0;
};

struct ColdList {
    double threshold = 0;
    std::vector<ColdLayer> layers;
    std::vector<ColdExpert> cold;  // layer, then share ascending, then id
};

// Every layer with selections in `tag` (or only `only_layer`); threshold in [0, 1].
ColdList cold_experts(const Aggregates& agg, const TagStats& tag, double threshold,
                      std::optional<int32_t> only_layer);

}  // namespace moe
