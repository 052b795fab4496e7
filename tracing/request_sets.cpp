#include "tracing/request_sets.hpp"

#include <algorithm>
#include <bit>
#include <map>

#include "analytics/percentile.hpp"

namespace moe {

uint32_t RequestWorkingSets::request_index(std::string_view scope, std::string_view id) {
    std::string key;
    key.reserve(scope.size() + 1 + id.size());
    key.append(scope).append(1, '\x1f').append(id);
    if (!names_.empty() && key == last_name_) return last_index_;
    auto [it, fresh] = index_.try_emplace(key, static_cast<uint32_t>(names_.size()));
    if (fresh) names_.push_back({std::string(scope), std::string(id)});
    last_name_ = std::move(key);
    last_index_ = it->second;
    return last_index_;
}

void RequestWorkingSets::add(const RoutingRecord& r, std::string_view scope) {
    if (r.request.empty()) {
        ++without_request_;
        return;
    }
    const uint32_t req = request_index(scope, r.request);
    Cell& c = cells_[static_cast<uint64_t>(req) << 32 | static_cast<uint32_t>(r.layer)];
    c.row.request = req;
    c.row.layer = r.layer;
    for (int32_t e : r.experts) {
        const auto i = static_cast<size_t>(e);  // validated: 0 <= e <= kMaxExpert
        if (i / 64 >= c.bits.size()) c.bits.resize(i / 64 + 1, 0);
        const uint64_t bit = uint64_t{1} << (i % 64);
        c.row.working_set += (c.bits[i / 64] & bit) == 0;
        c.bits[i / 64] |= bit;
    }
    const uint64_t n = ++c.row.tokens;
    if (std::has_single_bit(n)) c.row.growth.push_back(c.row.working_set);
}

std::vector<RequestLayer> RequestWorkingSets::rows() const {
    std::vector<RequestLayer> v;
    v.reserve(cells_.size());
    for (const auto& [key, c] : cells_)
        v.push_back(c.row);
    std::sort(v.begin(), v.end(), [](const RequestLayer& a, const RequestLayer& b) {
        return a.request != b.request ? a.request < b.request : a.layer < b.layer;
    });
    return v;
}

namespace {

LayerWorkingSets summarize(int32_t layer, const std::vector<const RequestLayer*>& rows,
                           std::span<const uint32_t> capacities) {
    LayerWorkingSets s;
    s.layer = layer;
    s.requests = rows.size();
    if (rows.empty()) return s;
    std::vector<double> sizes;
    sizes.reserve(rows.size());
    double sum = 0;
    for (const RequestLayer* r : rows) {
        sizes.push_back(r->working_set);
        sum += r->working_set;
        s.max = std::max(s.max, r->working_set);
    }
    std::sort(sizes.begin(), sizes.end());
    s.p50 = percentile_linear(sizes, 0.5);
    s.p90 = percentile_linear(sizes, 0.9);
    s.mean = sum / static_cast<double>(rows.size());
    for (size_t i = 0;; ++i) {
        GrowthPoint g{uint64_t{1} << i, 0, 0};
        for (const RequestLayer* r : rows)
            if (r->growth.size() > i) {
                g.mean_working_set += r->growth[i];
                ++g.count;
            }
        if (g.count == 0) break;
        g.mean_working_set /= static_cast<double>(g.count);
        s.growth.push_back(g);
    }
    for (uint32_t cap : capacities) {
        const auto over = std::count_if(
            rows.begin(), rows.end(), [&](const RequestLayer* r) { return r->working_set > cap; });
        s.over_capacity.push_back(
            {cap, static_cast<double>(over) / static_cast<double>(rows.size())});
    }
    return s;
}

}  // namespace

std::vector<LayerWorkingSets> summarize_working_sets(std::span<const RequestLayer> rows,
                                                     std::span<const uint32_t> capacities) {
    std::map<int32_t, std::vector<const RequestLayer*>> by_layer;
    std::vector<const RequestLayer*> all;
    for (const RequestLayer& r : rows) {
        by_layer[r.layer].push_back(&r);
        all.push_back(&r);
    }
    std::vector<LayerWorkingSets> out;
    for (const auto& [layer, v] : by_layer)
        out.push_back(summarize(layer, v, capacities));
    out.push_back(summarize(-1, all, capacities));
    return out;
}

}  // namespace moe
