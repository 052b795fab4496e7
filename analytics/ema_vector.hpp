// Per-expert exponential moving average, updated once per routing record:
//   ema_e <- d * ema_e + (1 - d) * x_e,  x_e = 1/k if e was selected, else 0.
// Decaying all E entries on every record would cost O(E); instead values are kept as
// ema_e = scale * v_e, so a record costs O(k): scale *= d and v_e += (1-d) x_e / scale.
// `norm` follows the same recursion with x = 1, i.e. 1 - d^T, for the bias-corrected value.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace moe {

class EmaVector {
  public:
    void resize(size_t n) { v_.resize(n, 0.0); }
    size_t size() const { return v_.size(); }

    void update(std::span<const int32_t> selected, double decay) {
        const double add = step(selected.size(), decay);
        for (int32_t e : selected)
            v_[static_cast<size_t>(e)] += add;
        settle();
    }
    // update() in three steps, for a caller that walks the ids once for more than the EMA
    // (LayerStats::add): step() returns what each of the k selected entries gains, the
    // caller adds it to data()[e], then settle().
    double step(size_t k, double decay) {
        scale_ *= decay;
        norm_ = decay * norm_ + (1.0 - decay);
        return (1.0 - decay) / static_cast<double>(k) / scale_;
    }
    double* data() { return v_.data(); }
    void settle() {
        if (scale_ < 1e-200) materialize();  // keep v_ far from overflow
    }

    double value(size_t e) const { return e < v_.size() ? scale_ * v_[e] : 0.0; }
    // ema / (1 - d^T): an estimate of the recent share of selections.
    double corrected(size_t e) const { return norm_ > 0 ? value(e) / norm_ : 0.0; }
    double norm() const { return norm_; }

    // Replace the state with stored values (as written by storage).
    void assign(std::span<const double> values, double norm) {
        v_.assign(values.begin(), values.end());
        scale_ = 1.0;
        norm_ = norm;
    }
    std::vector<double> values() const {
        std::vector<double> out(v_.size());
        for (size_t i = 0; i < v_.size(); ++i)
            out[i] = scale_ * v_[i];
        return out;
    }

    // This EMA followed by `later`'s `n_later` updates, `later` having started from zero:
    // the recursion is linear, so ema = ema_this * d^n_later + ema_later (norm alike).
    // Unlike adding independent nodes' EMAs (`moescope merge`), this continues one stream
    // (ingest/parallel_ingest.hpp).
    void continue_with(const EmaVector& later, uint64_t n_later, double decay) {
        const double f = std::pow(decay, static_cast<double>(n_later));
        materialize();
        if (v_.size() < later.v_.size()) v_.resize(later.v_.size(), 0.0);
        for (size_t e = 0; e < v_.size(); ++e)
            v_[e] = v_[e] * f + later.value(e);
        norm_ = norm_ * f + later.norm_;
    }

  private:
    void materialize() {
        for (double& x : v_)
            x *= scale_;
        scale_ = 1.0;
    }

    std::vector<double> v_;
    double scale_ = 1.0;
    double norm_ = 0.0;
};

}  // namespace moe
