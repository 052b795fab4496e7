#include "ingest/gate_pairer.hpp"

namespace moe {

// A chunk's fresh state, recording its opening (ingest/chunk_chain.hpp).
void GatePairer::record_opening() {
    *this = {};
    opening_.emplace();
}

void GatePairer::pair(TagId tag, const Pending& p, int32_t layer, int64_t token,
                      std::span<const float> values, Aggregates& agg) {
    const GateDistances d = gate_distances(p.values, values);
    agg.add_gate_pair(tag, {GateTokens::all, p.layer, layer}, d);
    if (token == 0) agg.add_gate_pair(tag, {GateTokens::first, p.layer, layer}, d);
}

void GatePairer::add(TagId tag, const GateRecord& g, Aggregates& agg) {
    if (opening_ && !opening_->touched) [[unlikely]] {
        opening_->touched = opening_->first_is_vector = true;
        opening_->first_layer = g.layer;
    }
    if (g.layer < last_layer_) ++pass_;
    last_layer_ = g.layer;

    auto it = by_token_.find(g.token);
    if (it == by_token_.end()) {
        if (by_token_.size() >= kMaxPendingTokens) {
            by_token_.clear();
            if (opening_) opening_->cleared = true;
        }
        it = by_token_.emplace(g.token, Pending{}).first;
        if (opening_ && pass_ == 0)
            opening_->firsts.push_back(
                {g.token, {g.layer, 0, tag, {g.values.begin(), g.values.end()}}});
    }
    Pending& p = it->second;
    if (p.pass == pass_ && p.layer >= 0 && p.layer < g.layer && p.tag == tag &&
        p.values.size() == g.values.size())
        pair(tag, p, g.layer, g.token, g.values, agg);
    p.layer = g.layer;
    p.pass = pass_;
    p.tag = tag;
    p.values.assign(g.values.begin(), g.values.end());  // reuses capacity
}

bool GatePairer::can_follow(const GatePairer& chunk) const {
    const Opening& o = *chunk.opening_;
    if (o.cleared) return false;
    // One pass holds our tokens and the chunk's: if they were more than the cap, it dropped
    // some that the chunk kept (and no token is ever dropped singly).
    size_t tokens = by_token_.size();
    for (const auto& [token, p] : chunk.by_token_)
        if (!by_token_.count(token) && ++tokens > kMaxPendingTokens) return false;
    return true;
}

void GatePairer::follow(const GatePairer& chunk, const Aggregates& chunk_agg, Aggregates& agg) {
    const Opening& o = *chunk.opening_;
    if (!o.touched) return;  // no vector, no restart: one pass's state stays ours
    const auto ours = [&](TagId t) { return agg.tag_id(chunk_agg.tag(t).name); };
    // The chunk's first vector starts a new pass in one pass when its layer drops back.
    const bool drops = o.first_is_vector && o.first_layer < last_layer_;
    if (!drops)
        for (const auto& [token, first] : o.firsts) {
            const auto it = by_token_.find(token);
            if (it == by_token_.end()) continue;
            const Pending& p = it->second;
            const TagId tag = ours(first.tag);
            if (p.pass == pass_ && p.layer >= 0 && p.layer < first.layer && p.tag == tag &&
                p.values.size() == first.values.size())
                pair(tag, p, first.layer, token, first.values, agg);
        }
    const uint64_t offset = pass_ + (drops ? 1 : 0);  // the chunk counted passes from 0
    for (const auto& [token, p] : chunk.by_token_) {
        Pending& mine = by_token_[token];
        mine = p;
        mine.pass += offset;
        mine.tag = ours(p.tag);
    }
    pass_ = chunk.pass_ + offset;
    last_layer_ = chunk.last_layer_;
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
