// How two top-k selections of one token agree (docs/FIGURES.md "Routing diff"); the sums
// over many tokens are analytics/agreement_sums.hpp.
#pragma once

#include <span>

#include "analytics/agreement_sums.hpp"

namespace moe {

// Ids within one selection are distinct (validated); k is small, so pairs are compared.
TopKMatch match_topk(std::span<const int32_t> a, std::span<const float> wa,
                     std::span<const int32_t> b, std::span<const float> wb);

}  // namespace moe
