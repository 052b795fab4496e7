#include "analytics/cooccurrence.hpp"

namespace moe {

void CoocMatrix::resize(size_t E) {
    if (E <= E_) return;
    std::vector<uint64_t> next(E * (E - 1) / 2, 0);
    for (size_t a = 0; a < E_; ++a)
        for (size_t b = a + 1; b < E_; ++b)
            next[index(a, b, E)] = c_[index(a, b, E_)];
    c_ = std::move(next);
    E_ = E;
}

bool CoocMatrix::assign(size_t E, std::vector<uint64_t> counts) {
    if (counts.size() != (E ? E * (E - 1) / 2 : 0)) return false;
    E_ = E;
    c_ = std::move(counts);
    return true;
}

void CoocMatrix::merge(const CoocMatrix& o) {
    resize(o.E_);
    for (size_t a = 0; a < o.E_; ++a)
        for (size_t b = a + 1; b < o.E_; ++b)
            c_[index(a, b, E_)] += o.c_[index(a, b, o.E_)];
}

}  // namespace moe
