#include "analytics/cooccurrence.hpp"

namespace moe {

void CoocMatrix::fill_rows() {
    row_base_.resize(E_);
    for (size_t a = 0; a < E_; ++a)
        row_base_[a] = index(a, a + 1, E_) - (a + 1);
}

void CoocMatrix::spill() {
    if (total_.size() != hot_.size()) total_.resize(hot_.size(), 0);
    for (size_t i = 0; i < hot_.size(); ++i)
        total_[i] += hot_[i];
    std::fill(hot_.begin(), hot_.end(), 0);
    since_spill_ = 0;
}

std::vector<uint64_t> CoocMatrix::counts() const {
    std::vector<uint64_t> out(hot_.begin(), hot_.end());
    for (size_t i = 0; i < total_.size(); ++i)
        out[i] += total_[i];
    return out;
}

void CoocMatrix::resize(size_t E) {
    if (E <= E_) return;
    const std::vector<uint64_t> old = counts();
    const size_t oldE = E_;
    E_ = E;
    hot_.assign(E * (E - 1) / 2, 0);
    total_.assign(hot_.size(), 0);
    fill_rows();
    since_spill_ = 0;
    for (size_t a = 0; a < oldE; ++a)
        for (size_t b = a + 1; b < oldE; ++b)
            total_[index(a, b, E)] = old[index(a, b, oldE)];
}

bool CoocMatrix::assign(size_t E, std::vector<uint64_t> c) {
    if (c.size() != (E ? E * (E - 1) / 2 : 0)) return false;
    E_ = E;
    hot_.assign(c.size(), 0);
    total_ = std::move(c);
    fill_rows();
    since_spill_ = 0;
    return true;
}

void CoocMatrix::merge(const CoocMatrix& o) {
    resize(o.E_);
    spill();
    for (size_t a = 0; a < o.E_; ++a)
        for (size_t b = a + 1; b < o.E_; ++b)
            total_[index(a, b, E_)] += o.get(a, b);
}

}  // namespace moe
