// The fast path of the gate_input floats: a short plain decimal ("-0.775347", "1.16519",
// "42") followed by a space or tab, read from one 16-byte window with SSE. The result is
// the correctly rounded float, bit for bit what fast_float::from_chars gives:
// - at most 15 digits, so the digits are an exact integer m < 2^53;
// - m <= 2^24 and at most 10 fraction digits: float(m) and 10^k are exact floats, so one
//   IEEE division rounds correctly (Clinger's fast path for float);
// - otherwise double(m) / 10^k (both exact, so correctly rounded to double), then to float.
//   That double rounding can only go wrong when the double lies exactly halfway between
//   two floats (float midpoints are doubles, and rounding is monotonic, so any other double
//   is on the same side of every midpoint as the exact value); then it returns null.
// Anything else (an exponent, a leading '.', '+', inf/nan, more digits, no separator
// within the window) returns null and the caller asks fast_float.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace moe::simd {

inline constexpr size_t kFloatWindow = 16;  // the caller guarantees 16 readable bytes at p

#if defined(__SSE4_1__)

// Reads the number at p (p[0..16) readable); returns the first byte after the spaces and
// tabs that follow it (inside the window, so before the line's end), or null.
inline const char* parse_short_float(const char* p, float& out) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i v = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(9)), v);
    const uint32_t digit = static_cast<uint32_t>(_mm_movemask_epi8(is_digit));
    const uint32_t sep = static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(
        _mm_cmpeq_epi8(x, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\t')))));
    const uint32_t not_digit = ~digit;  // bit 16 and up set: runs stop at the window's end

    const unsigned s = p[0] == '-';
    const unsigned int_digits = static_cast<unsigned>(__builtin_ctz(not_digit >> s));
    if (int_digits == 0) return nullptr;
    unsigned t = s + int_digits;  // the byte after the integer part
    unsigned frac_digits = 0;
    const bool dot = t < kFloatWindow && p[t] == '.';
    if (dot) {
        frac_digits = static_cast<unsigned>(__builtin_ctz(not_digit >> (t + 1)));
        t += 1 + frac_digits;
    }
    if (t >= kFloatWindow || !(sep >> t & 1)) return nullptr;  // exponent, junk, too long
    const unsigned next = t + static_cast<unsigned>(__builtin_ctz(~sep >> t));
    if (next == kFloatWindow) return nullptr;  // separators up to the window's end

    // Gather the digits right-aligned into 16 lanes, zeros in front: lane j takes byte
    // j + t - 16 (a negative index gives 0), and the integer part's lanes one byte further
    // back, over the '.'. Sign and '.' are 0 already.
    alignas(16) static constexpr signed char kSlide[32] = {
        -16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1,
        0,   1,   2,   3,   4,   5,   6,   7,  8,  9,  10, 11, 12, 13, 14, 15};
    alignas(16) static constexpr signed char kBack[32] = {
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0};
    const __m128i index = _mm_add_epi8(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kSlide + t)),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kBack + (dot ? frac_digits : 16))));
    const __m128i digits = _mm_shuffle_epi8(_mm_and_si128(v, is_digit), index);

    // 16 digits -> 8 pairs -> 4 quads -> 2 octets, then the integer.
    const __m128i pairs = _mm_maddubs_epi16(digits, _mm_set1_epi16(0x010a));
    const __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010064));
    const __m128i octets =
        _mm_madd_epi16(_mm_packus_epi32(quads, quads), _mm_set1_epi32(0x00012710));
    const uint64_t both = static_cast<uint64_t>(_mm_cvtsi128_si64(octets));
    const uint64_t m = (both & 0xffffffffu) * 100000000u + (both >> 32);

    static constexpr float kPow10f[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                        1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
    static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6, 1e7,
                                        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14};
    float f;
    if (m <= (uint64_t(1) << 24) && frac_digits <= 10) {
        f = static_cast<float>(m) / kPow10f[frac_digits];
    } else {
        const double d = static_cast<double>(m) / kPow10[frac_digits];
        uint64_t bits;
        std::memcpy(&bits, &d, sizeof bits);
        if ((bits & 0x1fffffffu) == 0x10000000u) return nullptr;  // a float midpoint
        f = static_cast<float>(d);
    }
    out = s ? -f : f;
    return p + next;
}

#else

// Without SSE4.1 (non-x86 builds, or below x86-64-v2): every number goes to fast_float.
inline const char* parse_short_float(const char*, float&) {
    return nullptr;
}

#endif

}  // namespace moe::simd
