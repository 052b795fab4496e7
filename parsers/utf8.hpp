// UTF-8 validation for output: JSON must be valid UTF-8 whatever bytes a log line held,
// samples of lines are cut on character boundaries (docs/FIGURES.md "Precision and nulls"),
// and text for terminals, tables and CSV shows control characters escaped.
#pragma once

#include <cstddef>
#include <string>
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

// Whether the well-formed character of n bytes at s[i] acts on a terminal or on the reading
// order: a C1 control U+0080-U+009F (U+009B is CSI, as ESC [ is) or a bidi embedding,
// override or isolate U+202A-U+202E, U+2066-U+2069 (text shown in another order than it
// reads).
inline bool is_format_control(std::string_view s, size_t i, size_t n) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    if (n == 2) return b(0) == 0xc2 && b(1) <= 0x9f;
    if (n != 3 || b(0) != 0xe2) return false;
    return (b(1) == 0x80 && b(2) >= 0xaa && b(2) <= 0xae) ||
           (b(1) == 0x81 && b(2) >= 0xa6 && b(2) <= 0xa9);
}

// s for a terminal, a table cell, a CSV cell or a log line: C0 controls, DEL and bytes that
// are not UTF-8 as "\xNN", C1 controls and bidi controls as "\uNNNN", everything else as is.
inline std::string escaped(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t n = sequence_length(s, i);
        if (n == 0 || c < 0x20 || c == 0x7f) {
            out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
            ++i;
            continue;
        }
        if (is_format_control(s, i, n)) {
            // The code point: 2 bytes 110xxxxx 10xxxxxx, 3 bytes 1110xxxx 10xxxxxx 10xxxxxx.
            const unsigned cp =
                n == 2 ? (c & 0x1fu) << 6 | (s[i + 1] & 0x3fu)
                       : (c & 0x0fu) << 12 | (s[i + 1] & 0x3fu) << 6 | (s[i + 2] & 0x3fu);
            out += {'\\', 'u', hex[cp >> 12], hex[cp >> 8 & 15], hex[cp >> 4 & 15], hex[cp & 15]};
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    return out;
}

}  // namespace moe::utf8
