#include "decisions/routing_sequence.hpp"

namespace moe {

void RoutingSequence::add(TagId tag, const RoutingRecord& r) {
    const bool weighted = r.weights.size() == r.experts.size() && !r.experts.empty();
    entries_.push_back(
        {tag, r.layer, static_cast<uint32_t>(r.experts.size()), experts_.size(), weighted});
    experts_.insert(experts_.end(), r.experts.begin(), r.experts.end());
    if (weighted)
        weights_.insert(weights_.end(), r.weights.begin(), r.weights.end());
    else
        weights_.resize(experts_.size(), 0.0f);
    if (keep_logits_) {
        logits_.insert(logits_.end(), r.logits.begin(), r.logits.end());
        logit_begin_.push_back(logits_.size());
    }
}

}  // namespace moe
