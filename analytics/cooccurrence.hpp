// Co-occurrence counts C[a][b]: records whose top-k contains both a and b (a < b), kept
// as a flat upper triangle (E(E-1)/2 counters: 260 KB for 256 experts) so an update is k(k-1)/2
// increments and no allocation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace moe {

// Beyond this many experts co-occurrence is not kept: the matrix grows as E^2 / 2
// (512 experts: 1 MB per layer and tag).
inline constexpr size_t kMaxCoocExperts = 512;

class CoocMatrix {
  public:
    size_t num_experts() const { return E_; }
    void resize(size_t E);  // grows, keeping counts

    void add(std::span<const int32_t> experts) {
        for (size_t i = 0; i < experts.size(); ++i)
            for (size_t j = i + 1; j < experts.size(); ++j) {
                auto a = static_cast<size_t>(experts[i]), b = static_cast<size_t>(experts[j]);
                if (a > b) std::swap(a, b);
                ++c_[index(a, b, E_)];
            }
    }

    // Count for the unordered pair {a, b}; 0 on the diagonal.
    uint64_t get(size_t a, size_t b) const {
        if (a == b || a >= E_ || b >= E_) return 0;
        if (a > b) std::swap(a, b);
        return c_[index(a, b, E_)];
    }

    const std::vector<uint64_t>& raw() const { return c_; }
    // Restores stored counts; false if the size does not match E.
    bool assign(size_t E, std::vector<uint64_t> counts);
    void merge(const CoocMatrix& o);

  private:
    static size_t index(size_t a, size_t b, size_t E) {
        return a * (2 * E - a - 1) / 2 + (b - a - 1);
    }
    size_t E_ = 0;
    std::vector<uint64_t> c_;
};

}  // namespace moe
