// LEB128 varints for count vectors stored as BLOBs: co-occurrence counts are mostly small,
// so a byte or two each instead of eight keeps every flush (and the WAL) several times smaller.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moe {

inline std::string encode_varints(std::span<const uint64_t> v) {
    std::string out;
    out.reserve(v.size() * 2);
    for (uint64_t x : v) {
        while (x >= 0x80) {
            out += static_cast<char>((x & 0x7f) | 0x80);
            x >>= 7;
        }
        out += static_cast<char>(x);
    }
    return out;
}

// nullopt on truncated or overlong input.
inline std::optional<std::vector<uint64_t>> decode_varints(std::span<const std::byte> in) {
    std::vector<uint64_t> out;
    uint64_t x = 0;
    int shift = 0;
    for (std::byte b : in) {
        const auto c = static_cast<uint8_t>(b);
        if (shift > 63) return std::nullopt;
        x |= static_cast<uint64_t>(c & 0x7f) << shift;
        if (c & 0x80) {
            shift += 7;
        } else {
            out.push_back(x);
            x = 0;
            shift = 0;
        }
    }
    if (shift != 0) return std::nullopt;
    return out;
}

}  // namespace moe
