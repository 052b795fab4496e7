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

namespace moe {

// Beyond this many experts co-occurrence is not kept: the matrix grows as E^2 / 2
// (512 experts: 1.3 MB of counters per layer and tag).
inline constexpr size_t kMaxCoocExperts = 512;

class CoocMatrix {
  public:
    size_t num_experts() const { return E_; }
    void resize(size_t E);  // grows, keeping counts

    void add(std::span<const int32_t> experts) {
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
