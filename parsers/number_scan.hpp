// Tiny scanners for the text formats' numbers: hand-rolled integers (the CSV hot path is
// almost all small integers) and fast_float for floating point.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include <fast_float/fast_float.h>

#include "parsers/simd_float.hpp"

namespace moe::scan {

inline bool is_digit(char c) {
    return static_cast<unsigned char>(c - '0') < 10;
}

inline const char* skip_spaces(const char* p, const char* end) {
    while (p < end && (*p == ' ' || *p == '\t'))
        ++p;
    return p;
}

// Parses an optionally negative decimal integer at p; on success advances p past it.
// At most 18 digits, so it cannot overflow.
inline bool parse_int(const char*& p, const char* end, int64_t& out) {
    const char* q = p;
    bool neg = false;
    if (q < end && *q == '-') {
        neg = true;
        ++q;
    }
    const char* digits = q;
    int64_t v = 0;
    while (q < end && is_digit(*q) && q - digits < 18)
        v = v * 10 + (*q++ - '0');
    if (q == digits || (q < end && is_digit(*q))) return false;
    out = neg ? -v : v;
    p = q;
    return true;
}

// A JSON double as a float: beyond float's range it is infinite (a plain conversion is
// undefined there), so the caller's finiteness check on the float sees it. NaN stays NaN.
inline float narrow_to_float(double d) {
    constexpr double kMax = std::numeric_limits<float>::max();
    if (d > kMax) return std::numeric_limits<float>::infinity();
    if (d < -kMax) return -std::numeric_limits<float>::infinity();
    return static_cast<float>(d);
}

enum class FloatListStatus { ok, malformed, non_finite };

// Parses whitespace-separated floats (C++ ostream or Python repr spellings, including
// scientific notation) into out (cleared first), correctly rounded as fast_float does.
// kFast = false is the reference without the SIMD fast path (tests compare the two).
template <bool kFast = true>
FloatListStatus parse_float_list(const char* p, const char* end, std::vector<float>& out) {
    out.clear();
    bool non_finite = false;
    p = skip_spaces(p, end);
    while (p < end) {
        float v;
        // Short plain decimals, away from the line's end: the SIMD fast path (same bits).
        if (kFast && end - p >= static_cast<ptrdiff_t>(simd::kFloatWindow)) {
            if (const char* q = simd::parse_short_float(p, v)) {
                out.push_back(v);
                p = q;  // the next number: no separator left to skip
                continue;
            }
        }
        auto res = fast_float::from_chars(p, end, v);
        if (res.ec != std::errc() || res.ptr == p) return FloatListStatus::malformed;
        if (!std::isfinite(v)) non_finite = true;
        out.push_back(v);
        p = res.ptr;
        if (p < end && *p != ' ' && *p != '\t') return FloatListStatus::malformed;
        p = skip_spaces(p, end);
    }
    return non_finite ? FloatListStatus::non_finite : FloatListStatus::ok;
}

// Without leading and trailing spaces and tabs.
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// True if the bytes contain control characters other than tab: binary junk, not text.
inline bool has_control_bytes(std::string_view s) {
    for (unsigned char c : s)
        if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
    return false;
}

}  // namespace moe::scan
