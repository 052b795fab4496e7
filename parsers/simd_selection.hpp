// The SIMD fast path of the llama-server selection line, `12,52 40 85 110 79 113 60 130`.
// It only recognises the common shape: a 1-4 digit layer, one comma, then 1-4 digit ids
// separated by spaces or tabs, the whole line at most 64 bytes. Anything else (a minus sign,
// a fifth digit, any other byte, no id, a longer line) returns false and the caller asks the
// scalar reference, which knows every reject; so the fast path cannot change a verdict.
//
// No load ever reaches past the line's last byte, whatever memory follows it: the last
// partial 16-byte block is loaded ending at the line's end and shifted down.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

namespace moe::simd {

struct SelectionFields {
    int32_t layer = 0;
    uint32_t n = 0;       // ids written
    uint32_t max_id = 0;  // the largest id, for the caller's range check
};

inline constexpr size_t kSelectionMaxBytes = 64;  // one 64-bit mask per class

namespace detail {

// Bytes [0, len) of p into buf, without reading p[len] or beyond: overlapping moves.
inline void copy_short(unsigned char* buf, const char* p, size_t len) {
    if (len >= 8) {
        uint64_t a, b;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + len - 8, 8);
        std::memcpy(buf, &a, 8);
        std::memcpy(buf + len - 8, &b, 8);
    } else if (len >= 4) {
        uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + len - 4, 4);
        std::memcpy(buf, &a, 4);
        std::memcpy(buf + len - 4, &b, 4);
    } else {
        for (size_t i = 0; i < len; ++i)
            buf[i] = static_cast<unsigned char>(p[i]);
    }
}

}  // namespace detail

#if defined(__SSSE3__)

namespace detail {

// Bytes [b, b + 16) of the line, zeros past its end, read without touching p[len] or
// beyond: a whole block, or the line's last 16 bytes shifted down (pshufb with a window
// into a table), or a short line's zero-padded copy.
inline __m128i block(const char* p, size_t len, size_t b, const unsigned char* short_line) {
    if (b + 16 <= len) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + b));
    if (len < 16) return _mm_load_si128(reinterpret_cast<const __m128i*>(short_line));
    alignas(16) static constexpr signed char kShift[32] = {
        0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    const size_t rest = len - b;  // 1..15 bytes left, now in the top lanes of `last`
    const __m128i last = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + len - 16));
    return _mm_shuffle_epi8(last,
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(kShift + 16 - rest)));
}

}  // namespace detail

// True if the line has the common shape; then fields and ids[0, fields.n) hold what the
// scalar reference would read (ids[] needs room for 32: a 64-byte line holds at most 31).
inline bool scan_selection(const char* p, size_t len, int32_t* ids, SelectionFields& out) {
    if (len < 3 || len > kSelectionMaxBytes) return false;
    const __m128i zero = _mm_setzero_si128();
    alignas(16) unsigned char short_line[16] = {};
    if (len < 16) detail::copy_short(short_line, p, len);

    // 16 bytes at a time: class bit masks, and at every byte the value of the digit run
    // ending there (up to 4 digits: d + 10 d[-1] + 100 (d[-2] + 10 d[-3]), the last term
    // only while the run goes on), so each id is one load at its run's end. Non-digits
    // count as 0, so a separator ends the two-digit sums by itself.
    alignas(16) uint16_t value[kSelectionMaxBytes];
    uint64_t digit = 0, sep = 0, comma = 0;
    __m128i prev_d = zero, prev_m = zero;
    for (size_t b = 0; b < len; b += 16) {
        const __m128i x = detail::block(p, len, b, short_line);
        const __m128i v = _mm_sub_epi8(x, _mm_set1_epi8('0'));
        const __m128i m = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(9)), v);
        const __m128i is_sep = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')),
                                            _mm_cmpeq_epi8(x, _mm_set1_epi8('\t')));
        const __m128i is_comma = _mm_cmpeq_epi8(x, _mm_set1_epi8(','));
        digit |= uint64_t(uint32_t(_mm_movemask_epi8(m))) << b;
        sep |= uint64_t(uint32_t(_mm_movemask_epi8(is_sep))) << b;
        comma |= uint64_t(uint32_t(_mm_movemask_epi8(is_comma))) << b;

        const __m128i d = _mm_and_si128(v, m);
        const __m128i d1 = _mm_alignr_epi8(d, prev_d, 15);
        const __m128i d2 = _mm_alignr_epi8(d, prev_d, 14);
        const __m128i d3 = _mm_alignr_epi8(d, prev_d, 13);
        const __m128i run3 =
            _mm_and_si128(_mm_alignr_epi8(m, prev_m, 15), _mm_alignr_epi8(m, prev_m, 14));
        // Digits are at most 9, so 16-bit shifts multiply bytes by 10 without spilling.
        const auto times10 = [](__m128i a) {
            return _mm_add_epi16(_mm_slli_epi16(a, 3), _mm_slli_epi16(a, 1));
        };
        const __m128i low2 = _mm_add_epi8(d, times10(d1));                         // <= 99
        const __m128i high2 = _mm_and_si128(_mm_add_epi8(d2, times10(d3)), run3);  // <= 99
        // low2 + 100 * high2 in 16 bits: pmaddubsw on the interleaved bytes (<= 9999).
        const __m128i weights = _mm_set1_epi16(0x6401);  // bytes 1, 100
        _mm_store_si128(reinterpret_cast<__m128i*>(value + b),
                        _mm_maddubs_epi16(_mm_unpacklo_epi8(low2, high2), weights));
        _mm_store_si128(reinterpret_cast<__m128i*>(value + b + 8),
                        _mm_maddubs_epi16(_mm_unpackhi_epi8(low2, high2), weights));
        prev_d = d;
        prev_m = m;
    }
    const uint64_t valid = len == 64 ? ~uint64_t(0) : (uint64_t(1) << len) - 1;
    digit &= valid;
    comma &= valid;
    if ((digit | (sep & valid) | comma) != valid) return false;  // other bytes: scalar

    // The layer: digits from byte 0 up to the only comma.
    if (comma == 0 || (comma & (comma - 1)) != 0) return false;
    const unsigned k = static_cast<unsigned>(__builtin_ctzll(comma));
    const uint64_t layer_digits = (uint64_t(1) << k) - 1;
    if (k == 0 || k > 4 || (digit & layer_digits) != layer_digits) return false;
    const uint64_t id_digits = digit & ~((uint64_t(2) << k) - 1);
    // A fifth digit in a row: saturation or leading zeros, the scalar path's business.
    if (id_digits & (id_digits >> 1) & (id_digits >> 2) & (id_digits >> 3) & (id_digits >> 4))
        return false;
    uint64_t ends = id_digits & ~(id_digits >> 1);
    if (ends == 0) return false;  // no id: malformed

    out.layer = value[k - 1];
    uint32_t n = 0, max_id = 0;
    do {
        const uint32_t id = value[__builtin_ctzll(ends)];
        max_id = id > max_id ? id : max_id;
        ids[n++] = static_cast<int32_t>(id);
        ends &= ends - 1;
    } while (ends);
    out.n = n;
    out.max_id = max_id;
    return true;
}

#else

// Without SSSE3 (non-x86 builds, or below x86-64-v2): every line takes the scalar reference.
inline bool scan_selection(const char*, size_t, int32_t*, SelectionFields&) {
    return false;
}

#endif

}  // namespace moe::simd
