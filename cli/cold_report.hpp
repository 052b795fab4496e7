// `moescope experts --cold SHARE`: the cold-expert list across layers
// (decisions/cold_experts.hpp, docs/FIGURES.md "Cold experts").
#pragma once

#include <string>

#include "cli/command.hpp"

namespace moe {

void cold_json(JsonWriter& w, const Query& x);
std::string cold_csv(const Query& x);
std::string cold_text(const Query& x);

}  // namespace moe
