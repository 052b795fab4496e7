#include "models/weight_similarity.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

namespace moe::models {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Floats per conversion buffer: large enough for an efficient Gram update, small against a
// layer's weights (16 MB).
constexpr size_t kChunkFloats = size_t{4} << 20;

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::MatrixXf load_router(const TensorView& t) {
    RowMatrix m(static_cast<Eigen::Index>(t.rows()), static_cast<Eigen::Index>(t.row_length()));
    t.to_float(0, t.rows(), std::span<float>(m.data(), static_cast<size_t>(m.size())));
    return m;
}

double pearson(const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
    const Eigen::VectorXd a = x.array() - x.mean(), b = y.array() - y.mean();
    const double d = std::sqrt(a.squaredNorm() * b.squaredNorm());
    return d > 0 ? a.dot(b) / d : kNaN;
}

double cosine(double dot, double n2a, double n2b) {
    const double d = std::sqrt(n2a * n2b);
    return d > 0 ? dot / d : kNaN;
}

unsigned thread_count(unsigned asked) {
    return asked ? asked : std::max(1u, std::thread::hardware_concurrency());
}

// Runs f(item, thread) for items [0, n) on `threads` threads; thread t takes items t,
// t + threads, ... in order, so per-thread sums (and so results) do not depend on timing.
template <class F>
void parallel_for(size_t n, unsigned threads, F&& f) {
    std::vector<std::exception_ptr> errors(threads);
    auto run = [&](unsigned t) {
        try {
            for (size_t i = t; i < n; i += threads)
                f(i, t);
        } catch (...) {
            errors[t] = std::current_exception();  // rethrown on the caller's thread
        }
    };
    {
        std::vector<std::jthread> pool;
        for (unsigned t = 1; t < std::min<size_t>(threads, n); ++t)
            pool.emplace_back(run, t);
        run(0);
    }
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// One unit of work over a layer's experts: rows [first, first + count) of projection p.
struct Chunk {
    size_t proj;
    uint64_t first, count;
};

std::vector<Chunk> chunks(const MoeLayer& l) {
    std::vector<Chunk> out;
    const size_t E = l.experts[0].size();
    for (size_t p = 0; p < kProjections; ++p) {
        const TensorView& t = l.experts[p][0];
        const uint64_t per =
            std::max<uint64_t>(1, kChunkFloats / (E * std::max<uint64_t>(1, t.row_length())));
        for (uint64_t r = 0; r < t.rows(); r += per)
            out.push_back({p, r, std::min(per, t.rows() - r)});
    }
    return out;
}

// Converts rows of chunk c of every expert into m (expert e in row e).
void fill(const MoeLayer& l, const Chunk& c, RowMatrix& m) {
    const size_t E = l.experts[c.proj].size();
    const uint64_t len = c.count * l.experts[c.proj][0].row_length();
    m.resize(static_cast<Eigen::Index>(E), static_cast<Eigen::Index>(len));
    for (size_t e = 0; e < E; ++e)
        l.experts[c.proj][e].to_float(
            c.first, c.count, std::span<float>(m.data() + e * len, static_cast<size_t>(len)));
}

uint64_t expert_bytes(const MoeLayer& l) {
    uint64_t b = 0;
    for (const auto& p : l.experts)
        for (const auto& t : p)
            b += t.nbytes;
    return b;
}

void release_layer(const MoeModel& m, const MoeLayer& l) {
    for (const auto& p : l.experts)
        for (const auto& t : p)
            m.release(t);
}

// Gram matrix of a layer's flattened experts, accumulated in double over chunks.
Eigen::MatrixXd layer_gram(const MoeLayer& l, unsigned threads) {
    const auto E = static_cast<Eigen::Index>(l.experts[0].size());
    const auto work = chunks(l);
    std::vector<Eigen::MatrixXd> grams(threads, Eigen::MatrixXd::Zero(E, E));
    std::vector<RowMatrix> bufs(threads);
    parallel_for(work.size(), threads, [&](size_t i, unsigned t) {
        fill(l, work[i], bufs[t]);
        const Eigen::MatrixXf g = bufs[t] * bufs[t].transpose();
        grams[t] += g.cast<double>();
    });
    for (unsigned t = 1; t < threads; ++t)
        grams[0] += grams[t];
    return grams[0];
}

// Per expert e: (a_e . b_e, |a_e|^2, |b_e|^2) between two layers of the same shapes.
Eigen::MatrixXd cross_dots(const MoeLayer& a, const MoeLayer& b, unsigned threads) {
    const auto E = static_cast<Eigen::Index>(a.experts[0].size());
    const auto work = chunks(a);
    std::vector<Eigen::MatrixXd> acc(threads, Eigen::MatrixXd::Zero(E, 3));
    std::vector<RowMatrix> ba(threads), bb(threads);
    parallel_for(work.size(), threads, [&](size_t i, unsigned t) {
        fill(a, work[i], ba[t]);
        fill(b, work[i], bb[t]);
        for (Eigen::Index e = 0; e < E; ++e) {
            const auto x = ba[t].row(e).cast<double>(), y = bb[t].row(e).cast<double>();
            acc[t](e, 0) += x.dot(y);
            acc[t](e, 1) += x.squaredNorm();
            acc[t](e, 2) += y.squaredNorm();
        }
    });
    for (unsigned t = 1; t < threads; ++t)
        acc[0] += acc[t];
    return acc[0];
}

bool same_shapes(const MoeLayer& a, const MoeLayer& b) {
    for (size_t p = 0; p < kProjections; ++p) {
        if (a.experts[p].size() != b.experts[p].size()) return false;
        if (!a.experts[p].empty() && a.experts[p][0].shape != b.experts[p][0].shape) return false;
    }
    return true;
}

double median(std::vector<double> v) {
    if (v.empty()) return kNaN;
    const size_t h = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(h), v.end());
    const double hi = v[h];
    if (v.size() % 2) return hi;
    return (*std::max_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(h)) + hi) / 2;
}

CrossLayerDelta distribution(int32_t delta, const std::vector<double>& values) {
    CrossLayerDelta c;
    c.delta = delta;
    c.n = values.size();
    double sum = 0;
    for (double v : values) {
        sum += v;
        const double pos = (std::clamp(v, -1.0, 1.0) + 1) / 2 * kCosineBins;
        ++c.histogram[std::min(kCosineBins - 1, static_cast<size_t>(pos))];
    }
    c.mean = values.empty() ? kNaN : sum / static_cast<double>(values.size());
    c.median = median(values);
    return c;
}

}  // namespace

RouterSimilarity router_similarity(const MoeModel& m) {
    RouterSimilarity r;
    std::vector<Eigen::MatrixXf> routers;
    for (const MoeLayer& l : m.layers()) {
        r.layers.push_back(l.layer);
        routers.push_back(load_router(*l.router));
        r.bytes += l.router->nbytes;
        m.release(*l.router);
    }
    const auto L = static_cast<Eigen::Index>(routers.size());
    r.cosine = r.row_cosine = r.row_norm_correlation = Eigen::MatrixXd::Constant(L, L, kNaN);
    std::vector<Eigen::VectorXd> norms;
    for (const auto& x : routers)
        norms.push_back(x.cast<double>().rowwise().norm());
    for (Eigen::Index i = 0; i < L; ++i)
        for (Eigen::Index j = i; j < L; ++j) {
            const auto& a = routers[static_cast<size_t>(i)];
            const auto& b = routers[static_cast<size_t>(j)];
            if (a.rows() != b.rows() || a.cols() != b.cols()) continue;
            const Eigen::VectorXd dots =
                (a.cast<double>().array() * b.cast<double>().array()).rowwise().sum();
            const auto& na = norms[static_cast<size_t>(i)];
            const auto& nb = norms[static_cast<size_t>(j)];
            double rows = 0;
            size_t defined = 0;
            for (Eigen::Index e = 0; e < dots.size(); ++e)
                if (na[e] > 0 && nb[e] > 0) {
                    rows += dots[e] / (na[e] * nb[e]);
                    ++defined;
                }
            const double c = cosine(dots.sum(), na.squaredNorm(), nb.squaredNorm());
            const double rc = defined ? rows / static_cast<double>(defined) : kNaN;
            const double nc = pearson(na, nb);
            r.cosine(i, j) = r.cosine(j, i) = c;
            r.row_cosine(i, j) = r.row_cosine(j, i) = rc;
            r.row_norm_correlation(i, j) = r.row_norm_correlation(j, i) = nc;
        }
    return r;
}

RouterDelta router_delta(const RouterSimilarity& r, int32_t delta) {
    RouterDelta d;
    d.delta = delta;
    double c = 0, rc = 0, nc = 0;
    size_t nrc = 0, nnc = 0;
    for (size_t i = 0; i < r.layers.size(); ++i)
        for (size_t j = i + 1; j < r.layers.size(); ++j) {
            if (r.layers[j] - r.layers[i] != delta) continue;
            const auto a = static_cast<Eigen::Index>(i), b = static_cast<Eigen::Index>(j);
            if (std::isnan(r.cosine(a, b))) continue;
            c += r.cosine(a, b);
            ++d.pairs;
            if (!std::isnan(r.row_cosine(a, b))) rc += r.row_cosine(a, b), ++nrc;
            if (!std::isnan(r.row_norm_correlation(a, b)))
                nc += r.row_norm_correlation(a, b), ++nnc;
        }
    d.cosine = d.pairs ? c / static_cast<double>(d.pairs) : kNaN;
    d.row_cosine = nrc ? rc / static_cast<double>(nrc) : kNaN;
    d.row_norm_correlation = nnc ? nc / static_cast<double>(nnc) : kNaN;
    return d;
}

std::string expert_weights_problem(const MoeModel& m) {
    for (const MoeLayer& l : m.layers()) {
        const std::string where = "layer " + std::to_string(l.layer) + ": ";
        const size_t E = l.experts[0].size();
        if (E == 0) return where + "no expert weight tensors";
        for (const auto& p : l.experts) {
            if (p.size() != E) return where + "the projections have different expert counts";
            for (const auto& t : p) {
                if (!convertible(t.dtype))
                    return where + "tensor type " + t.type_name + " not supported (" + t.name + ")";
                if (t.shape != p[0].shape) return where + "experts of different shapes";
            }
        }
    }
    return "";
}

ExpertSimilarity expert_similarity(const MoeModel& m, const ExpertOptions& o) {
    if (const std::string why = expert_weights_problem(m); !why.empty())
        throw std::runtime_error("cannot compare expert weights: " + why);
    const unsigned threads = thread_count(o.threads);
    const auto& layers = m.layers();
    std::vector<std::pair<size_t, size_t>> cross_pairs;  // (index of l, index of l + delta)
    std::vector<int32_t> cross_delta;
    for (int32_t d : o.deltas)
        for (size_t i = 0; i < layers.size(); ++i)
            for (size_t j = i + 1; j < layers.size(); ++j)
                if (layers[j].layer - layers[i].layer == d && same_shapes(layers[i], layers[j])) {
                    cross_pairs.emplace_back(i, j);
                    cross_delta.push_back(d);
                }
    const size_t total = layers.size() + cross_pairs.size();
    size_t done = 0;
    auto tick = [&] {
        if (o.progress) o.progress(++done, total);
    };

    ExpertSimilarity s;
    std::vector<ExpertPair> pairs;
    for (const MoeLayer& l : layers) {
        const Eigen::MatrixXd g = layer_gram(l, threads);
        s.bytes += expert_bytes(l);
        release_layer(m, l);
        const Eigen::Index E = g.rows();
        Eigen::MatrixXd c(E, E);
        LayerExperts le{l.layer, 0, -std::numeric_limits<double>::infinity()};
        size_t n = 0;
        for (Eigen::Index a = 0; a < E; ++a)
            for (Eigen::Index b = 0; b < E; ++b) {
                c(a, b) = cosine(g(a, b), g(a, a), g(b, b));
                if (b <= a || std::isnan(c(a, b))) continue;
                pairs.push_back(
                    {l.layer, static_cast<int32_t>(a), static_cast<int32_t>(b), c(a, b)});
                le.mean_cosine += c(a, b);
                le.max_cosine = std::max(le.max_cosine, c(a, b));
                ++n;
            }
        le.mean_cosine = n ? le.mean_cosine / static_cast<double>(n) : kNaN;
        if (!n) le.max_cosine = kNaN;
        s.layers.push_back(le);
        s.cosine.push_back(std::move(c));
        tick();
    }
    const size_t keep = std::min(o.top, pairs.size());
    std::partial_sort(pairs.begin(), pairs.begin() + static_cast<ptrdiff_t>(keep), pairs.end(),
                      [](const ExpertPair& x, const ExpertPair& y) {
                          if (x.cosine != y.cosine) return x.cosine > y.cosine;
                          return std::tie(x.layer, x.a, x.b) < std::tie(y.layer, y.a, y.b);
                      });
    pairs.resize(keep);
    s.similar_pairs = std::move(pairs);

    for (int32_t d : o.deltas) {
        std::vector<double> values;
        for (size_t k = 0; k < cross_pairs.size(); ++k) {
            if (cross_delta[k] != d) continue;
            const MoeLayer& a = layers[cross_pairs[k].first];
            const MoeLayer& b = layers[cross_pairs[k].second];
            const Eigen::MatrixXd dots = cross_dots(a, b, threads);
            s.bytes += expert_bytes(a) + expert_bytes(b);
            release_layer(m, a);
            release_layer(m, b);
            for (Eigen::Index e = 0; e < dots.rows(); ++e)
                if (const double c = cosine(dots(e, 0), dots(e, 1), dots(e, 2)); !std::isnan(c))
                    values.push_back(c);
            tick();
        }
        s.cross.push_back(distribution(d, values));
    }
    return s;
}

}  // namespace moe::models
