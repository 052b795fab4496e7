#include "ingest/identical_runs.hpp"

#include <algorithm>

namespace moe {

IdenticalRuns::Last& IdenticalRuns::at(std::vector<Last>& v, int32_t layer) {
    const auto i = static_cast<size_t>(layer);
    if (i >= v.size()) v.resize(i + 1);
    v[i].seen = true;
    return v[i];
}

const IdenticalRuns::Last* IdenticalRuns::find(const std::vector<Last>& v, int32_t layer) {
    const auto i = static_cast<size_t>(layer);
    return i < v.size() && v[i].seen ? &v[i] : nullptr;
}

namespace {
// Makes `into` a copy of `from` and says whether it already was one, in one pass: almost
// every record ends its layer's run, so comparing first and copying after costs twice.
bool copy_equal(std::vector<int32_t>& into, std::span<const int32_t> from) {
    if (into.size() != from.size()) {
        into.assign(from.begin(), from.end());
        return false;
    }
    int32_t* __restrict d = into.data();  // restrict and no early exit: it vectorizes
    const int32_t* __restrict s = from.data();
    uint32_t differ = 0;
    for (size_t i = 0; i < from.size(); ++i) {
        differ |= static_cast<uint32_t>(d[i] ^ s[i]);
        d[i] = s[i];
    }
    return differ == 0;
}
}  // namespace

uint64_t IdenticalRuns::observe(const RoutingRecord& r) {
    const auto layer = static_cast<size_t>(r.layer);
    if (layer >= last_.size()) last_.resize(layer + 1);
    Last& l = last_[layer];
    if (l.run == 0) {
        l.seen = true;
        Last& f = at(first_, r.layer);
        f.experts.assign(r.experts.begin(), r.experts.end());
        f.weights.assign(r.weights.begin(), r.weights.end());
        f.run = 1;
    }
    // Equal ids have equal bits, so overwriting them changes nothing. Weights compare as
    // floats (-0 equals 0) and keep the run's first bits, as the checkpoint stores them.
    if (copy_equal(l.experts, r.experts) && l.run > 0 &&
        std::equal(r.weights.begin(), r.weights.end(), l.weights.begin(), l.weights.end()))
        return ++l.run;
    if (!l.weights.empty() || !r.weights.empty())
        l.weights.assign(r.weights.begin(), r.weights.end());
    return l.run = 1;
}

bool IdenticalRuns::continued_by(const IdenticalRuns& later) const {
    for (size_t layer = 0; layer < later.first_.size(); ++layer) {
        const Last& f = later.first_[layer];
        if (!f.seen) continue;
        if (const Last* l = find(last_, static_cast<int32_t>(layer));
            l && l->run > 0 && l->experts == f.experts && l->weights == f.weights)
            return true;
    }
    return false;
}

void IdenticalRuns::advance(const IdenticalRuns& later) {
    for (size_t layer = 0; layer < later.last_.size(); ++layer)
        if (later.last_[layer].seen) at(last_, static_cast<int32_t>(layer)) = later.last_[layer];
}

std::vector<HeldRecord> IdenticalRuns::release_all() {
    std::vector<HeldRecord> out;
    if (!holding_) return out;
    for (Last& l : last_) {
        for (HeldRecord& h : l.held)
            out.push_back(std::move(h));
        l.held.clear();
    }
    holding_ = 0;
    return out;
}

void IdenticalRuns::save(StateWriter& w) const {
    w.put<uint32_t>(static_cast<uint32_t>(
        std::count_if(last_.begin(), last_.end(), [](const Last& l) { return l.seen; })));
    for (size_t layer = 0; layer < last_.size(); ++layer) {
        const Last& l = last_[layer];
        if (!l.seen) continue;
        w.put<int32_t>(static_cast<int32_t>(layer));
        w.put<uint64_t>(l.run);
        w.put<uint32_t>(static_cast<uint32_t>(l.experts.size()));
        for (int32_t e : l.experts)
            w.put<int32_t>(e);
        w.put_floats(l.weights);
    }
    std::vector<HeldRecord> all;
    for (const Last& l : last_)
        all.insert(all.end(), l.held.begin(), l.held.end());
    save_held(w, all);
}

bool IdenticalRuns::restore(StateReader& r) {
    last_.clear();
    holding_ = 0;
    const auto n = r.get<uint32_t>();
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const auto layer = r.get<int32_t>();
        // Only validated records are observed, so a saved layer is always in range.
        if (layer < 0 || layer > kMaxLayer) return false;
        Last& l = at(last_, layer);
        l.run = r.get<uint64_t>();
        const auto k = r.get<uint32_t>();
        if (k > kMaxTopK) return false;
        for (uint32_t j = 0; j < k && r.ok(); ++j)
            l.experts.push_back(r.get<int32_t>());
        r.get_floats(l.weights);
    }
    std::vector<HeldRecord> all;
    if (!restore_held(r, all)) return false;
    for (HeldRecord& h : all) {
        // Held records belong to a layer whose run was saved.
        if (h.layer < 0 || static_cast<size_t>(h.layer) >= last_.size()) return false;
        hold(h.layer, std::move(h));
    }
    return r.ok();
}

}  // namespace moe
