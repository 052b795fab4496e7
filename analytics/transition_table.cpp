#include "analytics/transition_table.hpp"

#include <algorithm>
#include <cmath>

namespace moe {

void TransitionTable::grow(uint32_t experts) {
    std::vector<uint64_t> wider(static_cast<size_t>(experts) * experts, 0);
    for (size_t a = 0; a < experts_; ++a)
        std::copy_n(counts_.begin() + static_cast<std::ptrdiff_t>(a * experts_), experts_,
                    wider.begin() + static_cast<std::ptrdiff_t>(a * experts));
    counts_ = std::move(wider);
    from_.resize(experts, 0);
    to_.resize(experts, 0);
    experts_ = experts;
}

void TransitionTable::add(std::span<const int32_t> from, std::span<const int32_t> to) {
    uint32_t need = experts_;
    for (int32_t e : from)
        need = std::max(need, static_cast<uint32_t>(e) + 1);  // validated: 0 <= e <= kMaxExpert
    for (int32_t e : to)
        need = std::max(need, static_cast<uint32_t>(e) + 1);
    if (need > experts_) [[unlikely]]
        grow(need);
    ++tokens_;
    total_ += from.size() * to.size();
    for (int32_t a : from) {
        ++from_[static_cast<size_t>(a)];
        uint64_t* row = counts_.data() + static_cast<size_t>(a) * experts_;
        for (int32_t b : to)
            ++row[b];
    }
    for (int32_t b : to)
        ++to_[static_cast<size_t>(b)];
}

void TransitionTable::add(const TransitionTable& o) {
    if (o.experts_ > experts_) grow(o.experts_);
    for (size_t a = 0; a < o.experts_; ++a)
        for (size_t b = 0; b < o.experts_; ++b)
            counts_[a * experts_ + b] += o.counts_[a * o.experts_ + b];
    for (size_t e = 0; e < o.experts_; ++e) {
        from_[e] += o.from_[e];
        to_[e] += o.to_[e];
    }
    tokens_ += o.tokens_;
    total_ += o.total_;
}

std::optional<TransitionTable> TransitionTable::restore(uint32_t experts,
                                                        std::vector<uint64_t> cells,
                                                        std::vector<uint64_t> from,
                                                        std::vector<uint64_t> to, uint64_t tokens) {
    const size_t E = experts;
    if (cells.size() != E * E || from.size() != E || to.size() != E) return std::nullopt;
    TransitionTable t;
    t.experts_ = experts;
    t.counts_ = std::move(cells);
    t.from_ = std::move(from);
    t.to_ = std::move(to);
    t.tokens_ = tokens;
    for (uint64_t c : t.counts_)
        t.total_ += c;
    return t;
}

namespace {
Transition cell(const TransitionTable& t, int32_t a, int32_t b, uint64_t c) {
    const double na = static_cast<double>(t.from_tokens(a));
    const double mb = static_cast<double>(t.to_tokens(b));
    return {a, b, c, static_cast<double>(c) / na,
            static_cast<double>(c) * static_cast<double>(t.tokens()) / (na * mb)};
}
}  // namespace

std::vector<Transition> transitions(const TransitionTable& t) {
    std::vector<Transition> v;
    const auto E = static_cast<int32_t>(t.num_experts());
    for (int32_t a = 0; a < E; ++a)
        for (int32_t b = 0; b < E; ++b)
            if (const uint64_t c = t.count(a, b)) v.push_back(cell(t, a, b, c));
    return v;
}

std::vector<Transition> top_lift(const TransitionTable& t, size_t n, uint64_t min_count) {
    std::vector<Transition> v = transitions(t);
    std::erase_if(v, [&](const Transition& x) { return x.count < min_count; });
    std::sort(v.begin(), v.end(), [](const Transition& x, const Transition& y) {
        if (x.lift != y.lift) return x.lift > y.lift;
        if (x.count != y.count) return x.count > y.count;
        return x.a != y.a ? x.a < y.a : x.b < y.b;
    });
    if (v.size() > n) v.resize(n);
    return v;
}

double mutual_information_bits(const TransitionTable& t) {
    if (t.total() == 0) return NAN;
    const auto E = static_cast<size_t>(t.num_experts());
    std::vector<double> row(E, 0), col(E, 0);
    for (size_t a = 0; a < E; ++a)
        for (size_t b = 0; b < E; ++b) {
            const auto c =
                static_cast<double>(t.count(static_cast<int32_t>(a), static_cast<int32_t>(b)));
            row[a] += c;
            col[b] += c;
        }
    const double total = static_cast<double>(t.total());
    double mi = 0;
    for (size_t a = 0; a < E; ++a)
        for (size_t b = 0; b < E; ++b) {
            const auto c =
                static_cast<double>(t.count(static_cast<int32_t>(a), static_cast<int32_t>(b)));
            if (c > 0) mi += c / total * std::log2(c * total / (row[a] * col[b]));
        }
    return std::max(0.0, mi);  // rounding may leave -1e-17 where the layers are independent
}

}  // namespace moe
