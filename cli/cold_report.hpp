// `moescope experts --cold SHARE`: the cold-expert list across layers
// (decisions/cold_experts.hpp, docs/FIGURES.md "Cold experts").
#pragma once

#include <string>

#include "cli/command.hpp"

namespace moe {

// `share`: the --cold value (0..1; std::invalid_argument otherwise).
void cold_json(JsonWriter& w, const Query& x, double share);
std::string cold_csv(const Query& x, double share);
std::string cold_text(const Query& x, double share);

}  // namespace moe
