#include "ingest/topk_probation.hpp"

#include <optional>

namespace moe {

void TopKProbation::add(HeldRecord h, uint64_t seq) {
    auto [it, fresh] = pending_.try_emplace(h.layer);
    if (fresh) it->second.first_seq = seq;
    it->second.records.push_back(std::move(h));
}

std::optional<size_t> TopKProbation::decided_k(const Pending& p, uint64_t seq, bool all) {
    // Counts per k in order of first appearance (a few distinct values at most).
    std::vector<std::pair<size_t, size_t>> counts;
    for (const HeldRecord& h : p.records) {
        auto it = std::find_if(counts.begin(), counts.end(),
                               [&](const auto& c) { return c.first == h.experts.size(); });
        if (it == counts.end())
            counts.emplace_back(h.experts.size(), 1);
        else
            ++it->second;
    }
    const auto best =
        std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;  // the first of equal counts stays the best
        });
    if (best == counts.end()) return std::nullopt;
    if (best->second >= kAgree || all || seq - p.first_seq >= kWindow) return best->first;
    return std::nullopt;
}

void TopKProbation::save(StateWriter& w) const {
    w.put<uint32_t>(static_cast<uint32_t>(pending_.size()));
    for (const auto& [layer, p] : pending_) {
        w.put<uint64_t>(p.first_seq);
        save_held(w, p.records);
    }
}

bool TopKProbation::restore(StateReader& r) {
    pending_.clear();
    const auto n = r.get<uint32_t>();
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        Pending p;
        p.first_seq = r.get<uint64_t>();
        if (!restore_held(r, p.records) || p.records.empty()) return false;
        const int32_t layer = p.records.front().layer;
        pending_[layer] = std::move(p);
    }
    return r.ok();
}

}  // namespace moe
