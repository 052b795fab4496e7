#include "analytics/gate_pairer.hpp"

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
