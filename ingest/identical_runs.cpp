#include "ingest/identical_runs.hpp"

#include <algorithm>

namespace moe {

uint64_t IdenticalRuns::observe(const RoutingRecord& r) {
    Last& l = last_[r.layer];
    if (l.run > 0 &&
        std::equal(r.experts.begin(), r.experts.end(), l.experts.begin(), l.experts.end()) &&
        std::equal(r.weights.begin(), r.weights.end(), l.weights.begin(), l.weights.end()))
        return ++l.run;
    if (l.run == 0)
        first_[r.layer] = {
            {r.experts.begin(), r.experts.end()}, {r.weights.begin(), r.weights.end()}, 1};
    l.experts.assign(r.experts.begin(), r.experts.end());
    l.weights.assign(r.weights.begin(), r.weights.end());
    return l.run = 1;
}

bool IdenticalRuns::continued_by(const IdenticalRuns& later) const {
    for (const auto& [layer, f] : later.first_)
        if (auto it = last_.find(layer); it != last_.end() && it->second.run > 0 &&
                                         it->second.experts == f.experts &&
                                         it->second.weights == f.weights)
            return true;
    return false;
}

void IdenticalRuns::advance(const IdenticalRuns& later) {
    for (const auto& [layer, l] : later.last_)
        last_[layer] = l;
}

std::vector<HeldRecord> IdenticalRuns::release_all() {
    std::vector<HeldRecord> out;
    for (auto& [layer, v] : held_)
        for (HeldRecord& h : v)
            out.push_back(std::move(h));
    held_.clear();
    return out;
}

void IdenticalRuns::save(StateWriter& w) const {
    w.put<uint32_t>(static_cast<uint32_t>(last_.size()));
    for (const auto& [layer, l] : last_) {
        w.put<int32_t>(layer);
        w.put<uint64_t>(l.run);
        w.put<uint32_t>(static_cast<uint32_t>(l.experts.size()));
        for (int32_t e : l.experts)
            w.put<int32_t>(e);
        w.put_floats(l.weights);
    }
    std::vector<HeldRecord> all;
    for (const auto& [layer, v] : held_)
        all.insert(all.end(), v.begin(), v.end());
    save_held(w, all);
}

bool IdenticalRuns::restore(StateReader& r) {
    last_.clear();
    held_.clear();
    const auto n = r.get<uint32_t>();
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const auto layer = r.get<int32_t>();
        Last& l = last_[layer];
        l.run = r.get<uint64_t>();
        const auto k = r.get<uint32_t>();
        if (k > kMaxTopK) return false;
        for (uint32_t j = 0; j < k && r.ok(); ++j)
            l.experts.push_back(r.get<int32_t>());
        r.get_floats(l.weights);
    }
    std::vector<HeldRecord> all;
    if (!restore_held(r, all)) return false;
    for (HeldRecord& h : all)
        held_[h.layer].push_back(std::move(h));
    return r.ok();
}

}  // namespace moe
