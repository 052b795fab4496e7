// How a token's choice at layer l goes on at layer l + 1 (docs/FIGURES.md "Affinity"):
// per pair of consecutive layers, T[a][b] = tokens selecting a at l and b at l + 1, with the
// marginals that P(b | a), lift and mutual information need. One flat E x E table of counts
// per layer pair and nothing per record, so the daemon keeps it live (moescoped --affinity:
// TagStats::transitions, stored in the transitions table).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace moe {

class TransitionTable {
  public:
    // One token's selections at l (`from`) and l + 1 (`to`).
    void add(std::span<const int32_t> from, std::span<const int32_t> to);

    uint32_t num_experts() const { return experts_; }
    uint64_t tokens() const { return tokens_; }  // N: tokens seen at both layers
    uint64_t count(int32_t a, int32_t b) const {
        return static_cast<uint32_t>(a) < experts_ && static_cast<uint32_t>(b) < experts_
                   ? counts_[static_cast<size_t>(a) * experts_ + static_cast<size_t>(b)]
                   : 0;
    }
    uint64_t from_tokens(int32_t a) const { return at(from_, a); }  // n_a: tokens with a at l
    uint64_t to_tokens(int32_t b) const { return at(to_, b); }      // m_b: tokens with b at l+1
    uint64_t total() const { return total_; }                       // sum of T
    // Adds another table's counts (merge, a restored base).
    void add(const TransitionTable& o);

    // The stored form (docs/SCHEMA.md "transitions"): T row by row, n_a, m_b, N.
    const std::vector<uint64_t>& cells() const { return counts_; }
    const std::vector<uint64_t>& from_counts() const { return from_; }
    const std::vector<uint64_t>& to_counts() const { return to_; }
    // A table from its stored form; nullopt when the lengths disagree (E x E, E, E).
    static std::optional<TransitionTable> restore(uint32_t experts, std::vector<uint64_t> cells,
                                                  std::vector<uint64_t> from,
                                                  std::vector<uint64_t> to, uint64_t tokens);
    // What a table of E experts holds, for the memory budget.
    static uint64_t bytes(uint64_t experts) { return (experts * experts + 2 * experts) * 8 + 96; }

    bool dirty = false;  // changed since the last save (the daemon's tables)

  private:
    static uint64_t at(const std::vector<uint64_t>& v, int32_t e) {
        return static_cast<size_t>(e) < v.size() ? v[static_cast<size_t>(e)] : 0;
    }
    void grow(uint32_t experts);

    uint32_t experts_ = 0;
    std::vector<uint64_t> counts_;  // row a, column b
    std::vector<uint64_t> from_, to_;
    uint64_t tokens_ = 0, total_ = 0;
};

struct Transition {
    int32_t a = 0, b = 0;
    uint64_t count = 0;
    double p_b_given_a = 0;  // count / n_a: the chance that b is among l + 1's experts
    double lift = 0;         // count * N / (n_a * m_b)
};

// Every non-zero cell, by a then b.
std::vector<Transition> transitions(const TransitionTable& t);
// The `n` cells with the highest lift among those counted at least `min_count` times (lift
// descending, then count descending, then a, b).
std::vector<Transition> top_lift(const TransitionTable& t, size_t n, uint64_t min_count = 1);
// Mutual information in bits between "one of the token's experts at l" and "one at l + 1",
// each drawn uniformly from its selection: I over p(a, b) = T[a][b] / sum T.
double mutual_information_bits(const TransitionTable& t);

}  // namespace moe
