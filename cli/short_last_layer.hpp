// llama-server logs the last MoE layer only for tokens whose logits are needed, so that
// layer has far fewer tokens and a Gini not comparable with the others: an expected
// artefact, not a defect. One rule for summary, layers and layers --brief
// (docs/FIGURES.md "Short last layer").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analytics/aggregates.hpp"

namespace moe {

struct ShortLastLayer {
    int32_t layer = 0;
    uint64_t tokens = 0;  // of the last layer
    uint64_t median = 0;  // median tokens of the other layers
};

// The last layer when it has fewer than half the median tokens of the other layers.
std::optional<ShortLastLayer> short_last_layer(const TagStats& t);

// "layer 31 has 1,234 tokens, the median layer 40,000, so ... (llama-server ...; an input
// cut short ...)", no newline: either may be why, the text asserts neither.
std::string short_last_layer_text(const ShortLastLayer& s);

}  // namespace moe
