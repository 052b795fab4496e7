// Token positions in five buckets (docs/FIGURES.md "Following a token"): the first token,
// the rest of a short prompt, and three decades beyond, so first-token and long-context
// routing show apart.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace moe {

inline constexpr int kPositionBuckets = 5;

// -1 for an unknown (negative) position.
constexpr int position_bucket(int64_t position) {
    if (position < 0) return -1;
    if (position == 0) return 0;
    if (position < 16) return 1;
    if (position < 128) return 2;
    if (position < 1024) return 3;
    return 4;
}

constexpr std::string_view position_bucket_name(int bucket) {
    constexpr std::array<std::string_view, kPositionBuckets> names = {"0", "1-15", "16-127",
                                                                      "128-1023", "1024+"};
    return bucket >= 0 && bucket < kPositionBuckets ? names[static_cast<size_t>(bucket)] : "";
}

}  // namespace moe
