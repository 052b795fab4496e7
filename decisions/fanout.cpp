#include "decisions/fanout.hpp"

#include <algorithm>
#include <cmath>

namespace moe {

GpuIndex::GpuIndex(std::span<const int32_t> phy2log, size_t gpus, size_t experts)
    : gpus_of_(experts), per_gpu_(gpus ? std::max<size_t>(1, phy2log.size() / gpus) : 1) {
    for (size_t s = 0; s < phy2log.size(); ++s) {
        const auto e = static_cast<size_t>(phy2log[s]);
        if (e >= experts) continue;
        const auto g = static_cast<uint32_t>(s / per_gpu_);
        auto& v = gpus_of_[e];
        if (std::find(v.begin(), v.end(), g) == v.end()) v.push_back(g);
    }
    for (auto& v : gpus_of_)
        std::sort(v.begin(), v.end());
}

namespace {
// Branch and bound over the first uncovered expert's GPUs: k <= a few dozen ids and most
// experts have one replica, so the search is a handful of steps per token.
void cover(const std::vector<const std::vector<uint32_t>*>& sets, std::vector<uint32_t>& chosen,
           size_t& best) {
    if (chosen.size() >= best) return;
    const std::vector<uint32_t>* open = nullptr;
    for (const auto* s : sets) {
        bool covered = false;
        for (uint32_t g : *s)
            if (std::find(chosen.begin(), chosen.end(), g) != chosen.end()) {
                covered = true;
                break;
            }
        if (!covered && (!open || s->size() < open->size())) open = s;
    }
    if (!open) {
        best = chosen.size();
        return;
    }
    for (uint32_t g : *open) {
        chosen.push_back(g);
        cover(sets, chosen, best);
        chosen.pop_back();
    }
}
}  // namespace

size_t GpuIndex::min_gpus(std::span<const int32_t> k) const {
    std::vector<const std::vector<uint32_t>*> sets;
    bool single = true;
    for (int32_t e : k) {
        if (e < 0 || static_cast<size_t>(e) >= gpus_of_.size() || gpus_of_[e].empty()) continue;
        sets.push_back(&gpus_of_[static_cast<size_t>(e)]);
        single = single && gpus_of_[e].size() == 1;
    }
    if (single) {  // no replicas involved: the distinct GPUs
        std::vector<uint32_t> g;
        for (const auto* s : sets)
            g.push_back(s->front());
        std::sort(g.begin(), g.end());
        return static_cast<size_t>(std::unique(g.begin(), g.end()) - g.begin());
    }
    std::vector<uint32_t> chosen;
    size_t best = sets.size();
    cover(sets, chosen, best);
    return best;
}

double Fanout::mean_gpus() const {
    return tokens ? static_cast<double>(gpus) / static_cast<double>(tokens) : NAN;
}
double Fanout::excess_share() const {
    return tokens ? static_cast<double>(excess) / static_cast<double>(tokens) : NAN;
}

std::map<int32_t, Fanout> fanout(const RoutingSequence& seq, TagId tag,
                                 const std::map<int32_t, GpuIndex>& index) {
    std::map<int32_t, Fanout> out;
    for (const auto& en : seq.entries()) {
        if (!in_tag(en, tag)) continue;
        const auto it = index.find(en.layer);
        if (it == index.end()) continue;
        const GpuIndex& g = it->second;
        const size_t n = g.min_gpus(seq.experts(en));
        const size_t needed = (en.k + g.slots_per_gpu() - 1) / g.slots_per_gpu();
        Fanout& f = out[en.layer];
        ++f.tokens;
        f.gpus += n;
        f.excess += n > needed;
    }
    return out;
}

}  // namespace moe
