// UTF-8 validation for output: JSON must be valid UTF-8 whatever bytes a log line held, and
// samples of lines are cut on character boundaries (docs/FIGURES.md "Precision and nulls").
#pragma once

#include <cstddef>
#include <string_view>

namespace moe::utf8 {

// Length (1..4) of the well-formed UTF-8 sequence starting at s[i], or 0 when the bytes there
// are not one (stray continuation byte, overlong form, surrogate, > U+10FFFF, or cut short).
inline size_t sequence_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;  // overlong
        if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;  // overlong
        if (c == 0xf4) hi = 0x8f;  // > U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
    return n;
}

// The longest prefix of s of at most max_bytes that does not end inside a character.
inline std::string_view cut(std::string_view s, size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    size_t end = max_bytes;
    // Step back over continuation bytes (at most 3) to the start of the cut character.
    size_t back = 0;
    while (end > 0 && back < 3 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) {
        --end;
        ++back;
    }
    if (back == 0) return s.substr(0, max_bytes);
    return s.substr(0, end);
}

}  // namespace moe::utf8
