// A list of cache capacities "C[,C2,...]", as `moescope cache --capacity` and
// `moescoped --cache-capacity` take it (docs/FIGURES.md "Cache simulation").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace moe {

// Largest capacity accepted: beyond any model's expert count, small enough for a cache scan.
inline constexpr uint32_t kMaxCacheCapacity = 1u << 20;

// The items of a comma-separated list, empty ones included ("a,,b" has three).
std::vector<std::string> split_commas(const std::string& s);

// Throws std::invalid_argument naming `option` and the bad item.
std::vector<uint32_t> parse_capacity_list(const std::string& s, const std::string& option);

}  // namespace moe
