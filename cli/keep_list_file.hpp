// Keep-list files (`prune --export`, read back by `prune --check`): JSON
// {"model": ..., "layers": {"0": [kept ids...], ...}} or CSV "layer,expert" rows of kept
// experts, chosen by the ".csv" extension (docs/FIGURES.md "Pruning").
#pragma once

#include <string>

#include "decisions/prune.hpp"

namespace moe {

std::string keep_list_json(const KeepList& keep, const std::string& model);
std::string keep_list_csv(const KeepList& keep);
// Writes JSON, or CSV when `path` ends in ".csv"; throws std::runtime_error on failure.
void write_keep_list(const std::string& path, const KeepList& keep, const std::string& model);
// Reads either form; masks are `E` long. A layer absent from the file keeps every expert
// (it has no entry). Throws std::runtime_error when unreadable, std::invalid_argument when
// malformed or an id is not below E. `model`, when given, receives the JSON's "model" ("" when
// null, absent, or a CSV file).
KeepList read_keep_list(const std::string& path, size_t E, std::string* model = nullptr);

}  // namespace moe
