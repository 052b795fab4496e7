#include "analytics/gate_metrics.hpp"

#include <cmath>
#include <limits>

#include <Eigen/Core>

namespace moe {

GateDistances gate_distances(std::span<const float> u_in, std::span<const float> v_in) {
    using Vec = Eigen::Map<const Eigen::ArrayXf>;
    const Eigen::Index n = static_cast<Eigen::Index>(u_in.size());
    const Vec uf(u_in.data(), n), vf(v_in.data(), n);
    // Accumulate in double: n_embd reaches 7,168 and the reference works in float64.
    const auto u = uf.cast<double>();
    const auto v = vf.cast<double>();
    const double nd = static_cast<double>(n);

    const double dot = (u * v).sum();
    const double uu = u.square().sum();
    const double vv = v.square().sum();
    const double sq = (u - v).square().sum();
    const double l1 = (u - v).abs().sum();
    const double maxabs = (u - v).abs().maxCoeff();
    const double mu = u.sum() / nd, mv = v.sum() / nd;
    const double cov = ((u - mu) * (v - mv)).sum();
    const double su = (u - mu).square().sum();
    const double sv = (v - mv).square().sum();

    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    GateDistances d;
    const double denom = std::sqrt(uu) * std::sqrt(vv);
    const double cos = denom > 0 ? dot / denom : nan;
    d[size_t(GateMetric::cosine_similarity)] = cos;
    d[size_t(GateMetric::cosine_distance)] = 1.0 - cos;
    d[size_t(GateMetric::euclidean)] = std::sqrt(sq);
    d[size_t(GateMetric::l2_normalized)] = std::sqrt(sq) / std::sqrt(nd);
    d[size_t(GateMetric::l1)] = l1;
    d[size_t(GateMetric::pearson)] = (n > 1 && su > 0 && sv > 0) ? cov / std::sqrt(su * sv) : nan;
    d[size_t(GateMetric::max_abs_diff)] = maxabs;
    d[size_t(GateMetric::mean_abs_diff)] = l1 / nd;
    return d;
}

}  // namespace moe
