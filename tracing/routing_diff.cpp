#include "tracing/routing_diff.hpp"

#include <algorithm>
#include <cmath>

namespace moe {

namespace {
constexpr size_t idx(DiffSide s) {
    return static_cast<size_t>(s);
}
constexpr DiffSide other(DiffSide s) {
    return s == DiffSide::a ? DiffSide::b : DiffSide::a;
}
TokenId stream_of(const TokenId& t) {
    return {t.kind, t.stream, 0};
}

void count_expert(std::vector<uint64_t>& v, int32_t e) {
    const auto i = static_cast<size_t>(e);  // validated: 0 <= e <= kMaxExpert
    if (i >= v.size()) v.resize(i + 1, 0);
    ++v[i];
}
void add_vectors(std::vector<uint64_t>& into, const std::vector<uint64_t>& v) {
    if (into.size() < v.size()) into.resize(v.size(), 0);
    for (size_t i = 0; i < v.size(); ++i)
        into[i] += v[i];
}
bool contains(std::span<const int32_t> s, int32_t e) {
    return std::find(s.begin(), s.end(), e) != s.end();
}
}  // namespace

std::string_view unmatched_name(Unmatched u) {
    switch (u) {
        case Unmatched::missing_request:
            return "missing_request";
        case Unmatched::different_length:
            return "different_length";
        case Unmatched::evicted:
            return "evicted";
        case Unmatched::duplicate:
            return "duplicate";
        case Unmatched::count_:
            break;
    }
    return "unknown";
}

uint64_t LayerDiff::only_a_total() const {
    uint64_t n = 0;
    for (uint64_t x : only_a)
        n += x;
    return n;
}

uint64_t LayerDiff::only_b_total() const {
    uint64_t n = 0;
    for (uint64_t x : only_b)
        n += x;
    return n;
}

void LayerDiff::add(const LayerDiff& o) {
    agreement.add(o.agreement);
    for (size_t i = 0; i < kUnmatchedReasons; ++i) {
        only_a[i] += o.only_a[i];
        only_b[i] += o.only_b[i];
    }
    add_vectors(gained, o.gained);
    add_vectors(lost, o.lost);
    add_vectors(selected_a, o.selected_a);
    add_vectors(selected_b, o.selected_b);
    k_sum += o.k_sum;
    for (const auto& [k, n] : o.flips)
        flips[k] += n;
}

std::vector<ExpertFlip> LayerDiff::top_flips(size_t n) const {
    std::vector<ExpertFlip> v;
    v.reserve(flips.size());
    for (const auto& [k, c] : flips)
        v.push_back({static_cast<int32_t>(k >> 32), static_cast<int32_t>(k & 0xffffffffu), c});
    std::sort(v.begin(), v.end(), [](const ExpertFlip& x, const ExpertFlip& y) {
        if (x.count != y.count) return x.count > y.count;
        return x.from != y.from ? x.from < y.from : x.to < y.to;
    });
    if (v.size() > n) v.resize(n);
    return v;
}

RoutingDiff::RoutingDiff(size_t window)
    : pending_(window),
      aligned_keys_(window),
      token_tallies_(window),
      seen_{{Seen(window), Seen(window)}} {}

int16_t RoutingDiff::phase_index(std::string_view phase) {
    if (phase.empty()) return -1;
    for (size_t i = 0; i < phases_.size(); ++i)
        if (phases_[i].first == phase) return static_cast<int16_t>(i);
    if (phases_.size() + 1 >= kMaxPhases) {  // past the cap new phases share one row
        if (phases_.size() + 1 == kMaxPhases) phases_.emplace_back("(other)", AgreementSums{});
        return static_cast<int16_t>(kMaxPhases - 1);
    }
    phases_.emplace_back(std::string(phase), AgreementSums{});
    return static_cast<int16_t>(phases_.size() - 1);
}

void RoutingDiff::add(DiffSide side, const RoutingRecord& r) {
    ++records_[idx(side)];
    with_request_[idx(side)] += !r.request.empty();
    const std::optional<TokenId> token = token_of(r);
    if (!token) {
        ++unplaced_[idx(side)];
        return;
    }
    const TokenKey key{*token, r.layer};
    const TokenId stream = stream_of(*token);
    if (!seen_[idx(side)].contains(stream))
        seen_[idx(side)].insert(stream, 0, [](const TokenId&, char) {});
    Pending* waiting = pending_.find(key);
    if ((waiting && waiting->side == side) ||     // the first one keeps waiting for its partner
        (!waiting && aligned_keys_.find(key))) {  // or was aligned: this is a replay
        unmatched(key, side, Unmatched::duplicate);
        return;
    }
    if (!waiting && ended_[idx(other(side))]) {  // its partner can no longer come
        unmatched_at_end(key, side);
        return;
    }
    const int16_t phase = phase_index(r.phase);
    if (!waiting) {
        pending_.insert(key,
                        Pending{side,
                                phase,
                                {r.experts.begin(), r.experts.end()},
                                {r.weights.begin(), r.weights.end()}},
                        [this](const TokenKey& k, const Pending& p) {
                            unmatched(k, p.side, Unmatched::evicted);
                            // The other run's records of this stream may have lost their
                            // partner: they say so (unmatched_at_end).
                            if (char* flag = seen_[idx(p.side)].find(stream_of(k.token))) *flag = 1;
                        });
        return;
    }
    const int16_t ph = waiting->phase >= 0 ? waiting->phase : phase;
    if (side == DiffSide::b)
        aligned(key, waiting->experts, waiting->weights, r.experts, r.weights, ph);
    else
        aligned(key, r.experts, r.weights, waiting->experts, waiting->weights, ph);
    pending_.erase(key);
    aligned_keys_.insert(key, 0, [](const TokenKey&, char) {});
}

void RoutingDiff::unmatched(const TokenKey& k, DiffSide side, Unmatched why) {
    LayerDiff& l = layer(k.layer);
    auto& counts = side == DiffSide::a ? l.only_a : l.only_b;
    ++counts[static_cast<size_t>(why)];
}

void RoutingDiff::unmatched_at_end(const TokenKey& k, DiffSide side) {
    const char* other_stream = seen_[idx(other(side))].find(stream_of(k.token));
    unmatched(k, side,
              !other_stream   ? Unmatched::missing_request
              : *other_stream ? Unmatched::evicted  // its partner may have been pushed out
                              : Unmatched::different_length);
}

void RoutingDiff::aligned(const TokenKey& k, std::span<const int32_t> a, std::span<const float> wa,
                          std::span<const int32_t> b, std::span<const float> wb, int16_t phase) {
    const TopKMatch m = match_topk(a, wa, b, wb);
    LayerDiff& l = layer(k.layer);
    l.agreement.add(m);
    for (int32_t e : a)
        count_expert(l.selected_a, e);
    for (int32_t e : b)
        count_expert(l.selected_b, e);
    l.k_sum += std::max(a.size(), b.size());
    if (!m.exact) {
        // Experts lost in A's rank order, gained in B's, paired first with first.
        std::array<int32_t, kMaxTopK> lost, gained;
        size_t n_lost = 0, n_gained = 0;
        for (int32_t e : a)
            if (!contains(b, e)) lost[n_lost++] = e, count_expert(l.lost, e);
        for (int32_t e : b)
            if (!contains(a, e)) gained[n_gained++] = e, count_expert(l.gained, e);
        for (size_t i = 0; i < std::min(n_lost, n_gained); ++i)
            ++l.flips[static_cast<uint64_t>(static_cast<uint32_t>(lost[i])) << 32 |
                      static_cast<uint32_t>(gained[i])];
    }
    const int bucket = position_bucket(k.token.position);
    if (bucket >= 0) buckets_[static_cast<size_t>(bucket)].add(m);
    if (phase >= 0) phases_[static_cast<size_t>(phase)].second.add(m);

    Tally* t = token_tallies_.find(k.token);
    if (!t)
        t = &token_tallies_.insert(k.token, Tally{},
                                   [this](const TokenId&, const Tally& old) { close(old, true); });
    ++t->aligned;
    t->differing += !m.exact;
}

void RoutingDiff::close(const Tally& t, bool early) {
    ++tally_.tokens;
    tally_.differ_any += t.differing > 0;
    if (tally_.differing_layers.size() <= t.differing)
        tally_.differing_layers.resize(t.differing + 1, 0);
    ++tally_.differing_layers[t.differing];
    tally_.closed_early += early;
}

void RoutingDiff::finish() {
    pending_.drain([this](const TokenKey& k, const Pending& p) { unmatched_at_end(k, p.side); });
    token_tallies_.drain([this](const TokenId&, const Tally& t) { close(t, false); });
}

double chance_overlap(const LayerDiff& layer) {
    const auto n = static_cast<double>(layer.agreement.aligned);
    if (n == 0 || layer.k_sum == 0) return NAN;
    double shared = 0;  // expected |A ∩ B| of a random pair, times n^2
    for (size_t e = 0; e < std::min(layer.selected_a.size(), layer.selected_b.size()); ++e)
        shared +=
            static_cast<double>(layer.selected_a[e]) * static_cast<double>(layer.selected_b[e]);
    return shared / (n * n) / (static_cast<double>(layer.k_sum) / n);
}

double overlap_kappa(double overlap, double chance) {
    if (!(chance < 1)) return NAN;  // also NaN
    return (overlap - chance) / (1 - chance);
}

double RoutingDiff::chance_overlap_all() const {
    double sum = 0;
    uint64_t n = 0;
    for (const auto& [l, d] : layers_)
        if (d.agreement.aligned > 0) {
            sum += chance_overlap(d) * static_cast<double>(d.agreement.aligned);
            n += d.agreement.aligned;
        }
    return n ? sum / static_cast<double>(n) : NAN;
}

LayerDiff RoutingDiff::all_layers() const {
    LayerDiff all;
    for (const auto& [l, d] : layers_)
        all.add(d);
    return all;
}

}  // namespace moe
