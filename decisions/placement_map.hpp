// A deployed placement: the physical -> logical expert map per layer, as engines and
// `moescope place` write it (docs/FIGURES.md "Placement"): SGLang's
// {"physical_to_logical_map": [[...], ...]} (row i is layer i), a bare [[...], ...]
// likewise, one [...] for every layer, or the layers[].{layer, phy2log} of `place --json`
// (which also states "gpus").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class PlacementMap {
  public:
    // Throws std::invalid_argument with the reason (the caller names the file).
    static PlacementMap parse(std::string_view json);

    // The map of `layer`; null when the placement has none for it.
    const std::vector<int32_t>* row(int32_t layer) const;
    std::optional<size_t> gpus() const { return gpus_; }

  private:
    std::map<int32_t, std::vector<int32_t>> rows_;
    std::optional<std::vector<int32_t>> every_;
    std::optional<size_t> gpus_;
};

}  // namespace moe
