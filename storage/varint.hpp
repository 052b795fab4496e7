// LEB128 varints for count vectors stored as BLOBs: co-occurrence counts are mostly small,
// so a byte or two each instead of eight keeps every flush (and the WAL) several times smaller.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moe {

inline void append_varint(std::string& out, uint64_t x) {
    while (x >= 0x80) {
        out += static_cast<char>((x & 0x7f) | 0x80);
        x >>= 7;
    }
    out += static_cast<char>(x);
}

inline std::string encode_varints(std::span<const uint64_t> v) {
    std::string out;
    out.reserve(v.size() * 2);
    for (uint64_t x : v)
        append_varint(out, x);
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

// Sparse counts (timeline hits, docs/SCHEMA.md "Encodings"): varints E (the vector's length),
// n (its non-zero entries), then n pairs (gap, count), where gap is the expert's distance
// from the previous non-zero expert + 1 (the first: its id). A minute bucket of a large
// model touches few experts per layer, and those few counts are small.
inline std::string encode_sparse_counts(std::span<const uint64_t> v) {
    size_t n = 0;
    for (uint64_t x : v)
        n += x != 0;
    std::string out;
    out.reserve(4 + n * 3);
    append_varint(out, v.size());
    append_varint(out, n);
    size_t next = 0;  // previous non-zero expert + 1
    for (size_t e = 0; e < v.size(); ++e) {
        if (!v[e]) continue;
        append_varint(out, e - next);
        append_varint(out, v[e]);
        next = e + 1;
    }
    return out;
}

// nullopt unless `in` is exactly one well-formed sparse vector (ids in range, counts
// non-zero, nothing after the last pair): a corrupt blob is refused, never half read.
inline std::optional<std::vector<uint64_t>> decode_sparse_counts(std::span<const std::byte> in) {
    auto v = decode_varints(in);
    if (!v || v->size() < 2) return std::nullopt;
    const uint64_t E = (*v)[0], n = (*v)[1];
    if (E > (uint64_t{1} << 24) || n > E || v->size() != 2 + 2 * n) return std::nullopt;
    std::vector<uint64_t> out(E, 0);
    uint64_t next = 0;
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t gap = (*v)[2 + 2 * i], count = (*v)[3 + 2 * i];
        if (gap >= E - next || count == 0) return std::nullopt;
        out[next + gap] = count;
        next += gap + 1;
    }
    return out;
}

}  // namespace moe
