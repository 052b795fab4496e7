// Co-occurrence counts C[a][b]: records whose top-k contains both a and b (a < b), kept
// as a flat upper triangle (E(E-1)/2 counters), so an update is k(k-1)/2 increments and no
// allocation. The increments go to 16-bit counters (a quarter of the cache footprint: the
// hot path's bottleneck); a record raises each counter at most once, so after 65,535
// records they are added into 64-bit totals and cleared. Counts are exact at any time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace moe {

// Beyond this many experts co-occurrence is not kept: the matrix grows as E^2 / 2
// (512 experts: 1.3 MB of counters per layer and tag).
inline constexpr size_t kMaxCoocExperts = 512;

class CoocMatrix {
  public:
    size_t num_experts() const { return E_; }
    void resize(size_t E);  // grows, keeping counts

    void add(std::span<const int32_t> experts) {
#if defined(__SSE4_1__)
        if (experts.size() == 8) {
            add8(experts.data());
            if (++since_spill_ == UINT16_MAX) spill();
            return;
        }
#endif
        // Branchless min/max and a per-row offset table: top-k ids arrive in rank order,
        // and sorting them costs more in mispredicted branches than the increments do.
        const size_t k = experts.size();
        const size_t* rows = row_base_.data();
        uint16_t* c = hot_.data();
        for (size_t i = 0; i + 1 < k; ++i) {
            const auto x = static_cast<size_t>(experts[i]);
            for (size_t j = i + 1; j < k; ++j) {
                const auto y = static_cast<size_t>(experts[j]);
                const size_t a = x < y ? x : y, b = x < y ? y : x;
                ++c[rows[a] + b];
            }
        }
        if (++since_spill_ == UINT16_MAX) spill();
    }

    // Count for the unordered pair {a, b}; 0 on the diagonal.
    uint64_t get(size_t a, size_t b) const {
        if (a == b || a >= E_ || b >= E_) return 0;
        if (a > b) std::swap(a, b);
        const size_t i = index(a, b, E_);
        return (total_.empty() ? 0 : total_[i]) + hot_[i];
    }

    // Every count, row by row (what storage writes).
    std::vector<uint64_t> counts() const;
    // Restores stored counts; false if the size does not match E.
    bool assign(size_t E, std::vector<uint64_t> counts);
    void merge(const CoocMatrix& o);

  private:
#if defined(__SSE4_1__)
    // Top-8 (the common k): the 28 pair indices four at a time, then the increments.
    void add8(const int32_t* ids) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ids));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ids + 4));
        const __m128i a1 = _mm_shuffle_epi32(a, _MM_SHUFFLE(0, 3, 2, 1));
        const __m128i b1 = _mm_shuffle_epi32(b, _MM_SHUFFLE(0, 3, 2, 1));
        const __m128i b2 = _mm_shuffle_epi32(b, _MM_SHUFFLE(1, 0, 3, 2));
        const __m128i b3 = _mm_shuffle_epi32(b, _MM_SHUFFLE(2, 1, 0, 3));
        // Within a register, rotations by 1 give 4 pairs and by 2 two more; the two
        // registers' rotation-by-2 pairs share one group. Across them, 4 rotations.
        const __m128i ab = _mm_unpacklo_epi64(a, b);   // a0 a1 b0 b1
        const __m128i ab2 = _mm_unpackhi_epi64(a, b);  // a2 a3 b2 b3
        alignas(16) uint32_t idx[28];
        const __m128i twoE1 = _mm_set1_epi32(static_cast<int32_t>(2 * E_ - 1));
        const auto put = [&](int at, __m128i x, __m128i y) {
            // index(lo, hi) = lo (2E - 1 - lo) / 2 + hi - lo - 1; the product is even.
            const __m128i lo = _mm_min_epi32(x, y), hi = _mm_max_epi32(x, y);
            const __m128i row = _mm_srli_epi32(_mm_mullo_epi32(lo, _mm_sub_epi32(twoE1, lo)), 1);
            const __m128i col = _mm_sub_epi32(hi, _mm_add_epi32(lo, _mm_set1_epi32(1)));
            _mm_store_si128(reinterpret_cast<__m128i*>(idx + at), _mm_add_epi32(row, col));
        };
        put(0, a, a1);
        put(4, b, b1);
        put(8, ab, ab2);
        put(12, a, b);
        put(16, a, b1);
        put(20, a, b2);
        put(24, a, b3);
        uint16_t* c = hot_.data();
#pragma GCC unroll 28
        for (uint32_t i : idx)
            ++c[i];
    }
#endif
    static size_t index(size_t a, size_t b, size_t E) {
        return a * (2 * E - a - 1) / 2 + (b - a - 1);
    }
    void spill();
    void fill_rows();

    size_t E_ = 0;
    std::vector<uint16_t> hot_;
    std::vector<size_t> row_base_;  // row_base_[a] + b = index(a, b) for a < b (unsigned wrap)
    std::vector<uint64_t> total_;   // empty until the first spill
    uint32_t since_spill_ = 0;
};

}  // namespace moe
