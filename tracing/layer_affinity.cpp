#include "tracing/layer_affinity.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace moe {

void PairSequence::add(std::span<const int32_t> from, std::span<const int32_t> to, int64_t pass,
                       int32_t row) {
    // Both at most kMaxTopK (validated), so they fit 16 bits.
    events_.push_back({ids_.size(), pass, row, static_cast<uint16_t>(from.size()),
                       static_cast<uint16_t>(to.size())});
    ids_.insert(ids_.end(), from.begin(), from.end());
    ids_.insert(ids_.end(), to.begin(), to.end());
}

std::vector<size_t> PairSequence::log_order() const {
    std::vector<size_t> order(events_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const Event &x = events_[a], &y = events_[b];
        return std::tie(x.pass, x.row) < std::tie(y.pass, y.row);
    });
    return order;
}

LayerAffinity::LayerAffinity(size_t window, bool keep_sequence, PairSink sink)
    : waiting_(window), late_(kLateWindow), keep_sequence_(keep_sequence), sink_(std::move(sink)) {}

void LayerAffinity::pair(int32_t from_layer, std::span<const int32_t> from,
                         std::span<const int32_t> to, int64_t pass, int32_t row) {
    if (sink_)
        sink_(from_layer, from, to);
    else
        tables_[from_layer].add(from, to);
    if (keep_sequence_) sequences_[from_layer].add(from, to, pass, row);
    ++pairs_;
}

void LayerAffinity::add(const RoutingRecord& r) {
    const std::optional<TokenId> token = token_of(r);
    if (!token) {
        ++unplaced_;
        return;
    }
    const TokenKey key{*token, r.layer}, below{*token, r.layer - 1}, above{*token, r.layer + 1};
    top_known_ = top_known_ || r.layer < top_layer_;
    top_layer_ = std::max(top_layer_, r.layer);
    if (waiting_.contains(key) || late_.contains(key)) {
        ++duplicates_;
        return;
    }
    const auto keep_late = [this](const TokenKey& k, Waiting w) {
        late_.insert(k, std::move(w), [](const TokenKey&, const Waiting&) {});
    };
    bool below_done = false;
    if (Waiting* from = waiting_.find(below)) {  // the usual order: l, then l + 1
        pair(below.layer, from->experts, r.experts, r.pass, r.row);
        below_done = true;
        Waiting done = std::move(*from);
        waiting_.erase(below);
        if (!done.below_done) keep_late(below, std::move(done));
    }
    // A partner above that came first: this record was held.
    Waiting* to = waiting_.find(above);
    const bool above_late = !to && (to = late_.find(above)) != nullptr;
    if (to) {
        pair(r.layer, r.experts, to->experts, to->pass, to->row);
        to->below_done = true;
        if (above_late) late_.erase(above);
        if (!below_done)
            keep_late(key, {{r.experts.begin(), r.experts.end()}, r.pass, r.row, false});
        return;
    }
    waiting_.insert(key, {{r.experts.begin(), r.experts.end()}, r.pass, r.row, below_done},
                    [this](const TokenKey& k, const Waiting&) {
                        // A record of the last layer has no next layer to wait for: as at
                        // the end of the input, it is unfollowed (a live stream's window is
                        // never drained). The last layer is the highest seen once the layers
                        // dropped back from it (a token or request ended).
                        ++(top_known_ && k.layer >= top_layer_ ? unfollowed_ : evicted_);
                    });
}

void LayerAffinity::finish() {
    waiting_.drain([this](const TokenKey&, const Waiting&) { ++unfollowed_; });
    late_.drain([](const TokenKey&, const Waiting&) {});
}

namespace {

// Experts by `score` descending, then `hot` descending, then id: the first m.
std::vector<int32_t> best(const std::vector<double>& score, const std::vector<uint64_t>& hot,
                          size_t m) {
    std::vector<int32_t> ids(score.size());
    std::iota(ids.begin(), ids.end(), 0);
    m = std::min(m, ids.size());
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(m), ids.end(),
                      [&](int32_t x, int32_t y) {
                          const auto i = static_cast<size_t>(x), j = static_cast<size_t>(y);
                          if (score[i] != score[j]) return score[i] > score[j];
                          if (hot[i] != hot[j]) return hot[i] > hot[j];
                          return x < y;
                      });
    ids.resize(m);
    return ids;
}

size_t hits(std::span<const int32_t> predicted, std::span<const int32_t> actual) {
    size_t n = 0;
    for (int32_t e : actual)
        n += std::find(predicted.begin(), predicted.end(), e) != predicted.end();
    return n;
}

}  // namespace

PrefetchEvaluation evaluate_prefetch(const PairSequence& s, double split,
                                     std::span<const uint32_t> multipliers) {
    PrefetchEvaluation ev;
    const size_t n = s.size();
    const auto fit = static_cast<size_t>(std::floor(std::clamp(split, 0.0, 1.0) * double(n)));
    ev.fitted = fit;
    ev.scored = n - fit;
    if (n == 0) return ev;
    int32_t max_id = 0;
    for (size_t i = 0; i < n; ++i) {
        for (int32_t e : s.from(i))
            max_id = std::max(max_id, e);
        for (int32_t e : s.to(i))
            max_id = std::max(max_id, e);
    }
    const auto E = static_cast<size_t>(max_id) + 1;
    const std::vector<size_t> order = s.log_order();
    TransitionTable table;
    for (size_t j = 0; j < fit; ++j)
        table.add(s.from(order[j]), s.to(order[j]));
    std::vector<uint64_t> hot(E, 0);
    for (size_t b = 0; b < E; ++b)
        hot[b] = table.to_tokens(static_cast<int32_t>(b));
    const std::vector<double> no_score(E, 0);
    const size_t k = s.to(order[0]).size();
    for (uint32_t mult : multipliers) {
        const size_t m = std::min<size_t>(static_cast<size_t>(mult) * k, E);
        const std::vector<int32_t> hottest = best(no_score, hot, m);
        uint64_t selected = 0, predicted = 0, statically = 0;
        std::vector<double> score(E);
        for (size_t j = fit; j < n; ++j) {
            const size_t i = order[j];
            std::fill(score.begin(), score.end(), 0.0);
            for (int32_t a : s.from(i)) {
                const uint64_t na = table.from_tokens(a);
                if (na == 0) continue;
                for (size_t b = 0; b < E; ++b)
                    score[b] += static_cast<double>(table.count(a, static_cast<int32_t>(b))) /
                                static_cast<double>(na);
            }
            const std::span<const int32_t> actual = s.to(i);
            selected += actual.size();
            predicted += hits(best(score, hot, m), actual);
            statically += hits(hottest, actual);
        }
        const auto share = [&](uint64_t x) {
            return selected ? static_cast<double>(x) / static_cast<double>(selected) : NAN;
        };
        ev.recall.push_back({static_cast<uint32_t>(m), share(predicted), share(statically)});
    }
    return ev;
}

}  // namespace moe
