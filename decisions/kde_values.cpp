#include "decisions/kde_values.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

namespace moe {

std::string KdeQuantity::name() const {
    const std::string unit = logits ? "logit" : "weight";
    switch (kind) {
        case Kind::rank:
            return "top" + std::to_string(n) + "_" + unit;
        case Kind::trimmed:
            return "trim" + std::to_string(n) + "_" + unit + "s";
        case Kind::popular:
            return "popular" + std::to_string(n) + "_" + unit;
    }
    return {};
}

std::optional<KdeQuantity> KdeQuantity::parse(std::string_view name) {
    for (const Kind kind : {Kind::rank, Kind::trimmed, Kind::popular})
        for (const bool logits : {false, true}) {
            KdeQuantity q{kind, 1, logits};
            const std::string pattern = q.name();  // e.g. "trim1_weights": split around the 1
            const size_t at = pattern.find('1');
            const std::string_view head(pattern.data(), at), tail(pattern.data() + at + 1);
            if (!name.starts_with(head) || !name.ends_with(tail) ||
                name.size() <= head.size() + tail.size())
                continue;
            const std::string_view digits =
                name.substr(head.size(), name.size() - head.size() - tail.size());
            const auto [p, ec] = std::from_chars(digits.begin(), digits.end(), q.n);
            if (ec == std::errc() && p == digits.end() && q.n > 0 && digits.front() != '0')
                return q;
        }
    return std::nullopt;
}

void kde_values_of(const KdeQuantity& q, std::span<const int32_t> experts,
                   std::span<const float> weights, std::span<const float> logits, int32_t expert,
                   std::vector<float>& scratch, std::vector<double>& out) {
    const std::span<const float> v = q.logits ? logits : weights;
    if (v.empty()) return;
    switch (q.kind) {
        case KdeQuantity::Kind::rank:
            if (v.size() < q.n) return;
            scratch.assign(v.begin(), v.end());
            std::nth_element(scratch.begin(), scratch.begin() + (q.n - 1), scratch.end(),
                             std::greater<float>());
            out.push_back(scratch[q.n - 1]);
            return;
        case KdeQuantity::Kind::trimmed:
            if (v.size() <= 2 * size_t{q.n}) return;
            scratch.assign(v.begin(), v.end());
            std::sort(scratch.begin(), scratch.end());
            for (size_t i = q.n; i + q.n < scratch.size(); ++i)
                out.push_back(scratch[i]);
            return;
        case KdeQuantity::Kind::popular:
            if (expert < 0) return;
            if (q.logits) {
                if (static_cast<size_t>(expert) < v.size()) out.push_back(v[expert]);
                return;
            }
            for (size_t i = 0; i < experts.size() && i < v.size(); ++i)
                if (experts[i] == expert) return out.push_back(v[i]);
            return;
    }
}

std::map<int32_t, int32_t> popular_experts(const RoutingSequence& seq, TagId tag, uint32_t p) {
    std::map<int32_t, std::vector<uint64_t>> hits;
    for (const auto& e : seq.entries()) {
        if (e.tag != tag) continue;
        auto& h = hits[e.layer];
        for (int32_t x : seq.experts(e)) {
            if (h.size() <= static_cast<size_t>(x)) h.resize(x + 1, 0);
            ++h[x];
        }
    }
    std::map<int32_t, int32_t> out;
    std::vector<int32_t> order;
    for (const auto& [layer, h] : hits) {
        order.clear();
        for (size_t x = 0; x < h.size(); ++x)
            if (h[x] > 0) order.push_back(static_cast<int32_t>(x));
        if (order.size() < p) continue;
        // `hh = h`: clang 14 cannot capture a structured binding.
        std::stable_sort(order.begin(), order.end(),
                         [&hh = h](int32_t a, int32_t b) { return hh[a] > hh[b]; });
        out[layer] = order[p - 1];
    }
    return out;
}

std::map<int32_t, std::vector<double>> kde_values(const RoutingSequence& seq, TagId tag,
                                                  const KdeQuantity& q,
                                                  const std::map<int32_t, int32_t>& experts) {
    std::map<int32_t, std::vector<double>> out;
    std::vector<float> scratch;
    for (const auto& e : seq.entries()) {
        if (e.tag != tag) continue;
        int32_t expert = -1;
        if (q.kind == KdeQuantity::Kind::popular) {
            const auto it = experts.find(e.layer);
            if (it == experts.end()) continue;
            expert = it->second;
        }
        kde_values_of(q, seq.experts(e), seq.weights(e), seq.logits(e), expert, scratch,
                      out[e.layer]);
    }
    return out;
}

}  // namespace moe
