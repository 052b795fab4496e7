#include "ingest/gate_pairer.hpp"

namespace moe {

void GatePairer::add(TagId tag, const GateRecord& g, Aggregates& agg) {
    if (g.layer < last_layer_) ++pass_;
    last_layer_ = g.layer;

    auto it = by_token_.find(g.token);
    if (it == by_token_.end()) {
        if (by_token_.size() >= kMaxPendingTokens) by_token_.clear();
        it = by_token_.emplace(g.token, Pending{}).first;
    }
    Pending& p = it->second;
    if (p.pass == pass_ && p.layer >= 0 && p.layer < g.layer && p.tag == tag &&
        p.values.size() == g.values.size()) {
        const GateDistances d = gate_distances(p.values, g.values);
        agg.add_gate_pair(tag, {GateTokens::all, p.layer, g.layer}, d);
        if (g.token == 0) agg.add_gate_pair(tag, {GateTokens::first, p.layer, g.layer}, d);
    }
    p.layer = g.layer;
    p.pass = pass_;
    p.tag = tag;
    p.values.assign(g.values.begin(), g.values.end());  // reuses capacity
}

}  // namespace moe

namespace moe {

void GatePairer::save(StateWriter& w, const Aggregates& agg) const {
    w.put<int32_t>(last_layer_);
    w.put<uint64_t>(pass_);
    w.put<uint32_t>(static_cast<uint32_t>(by_token_.size()));
    for (const auto& [token, p] : by_token_) {
        w.put<int64_t>(token);
        w.put<int32_t>(p.layer);
        w.put<uint64_t>(p.pass);
        w.put_string(agg.tag(p.tag).name);
        w.put_floats(p.values);
    }
}

bool GatePairer::restore(StateReader& r, Aggregates& agg) {
    last_layer_ = r.get<int32_t>();
    pass_ = r.get<uint64_t>();
    const auto n = r.get<uint32_t>();
    by_token_.clear();
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
        const auto token = r.get<int64_t>();
        Pending p;
        p.layer = r.get<int32_t>();
        p.pass = r.get<uint64_t>();
        p.tag = agg.tag_id(r.get_string());
        r.get_floats(p.values);
        by_token_.emplace(token, std::move(p));
    }
    if (!r.ok()) by_token_.clear(), last_layer_ = -1;
    return r.ok();
}

}  // namespace moe
