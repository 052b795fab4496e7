// The accepted routing records of an analysis in log order (tag, layer, top-k ids and
// weights): what figures that need single tokens rest on (prune's token fractions, cache
// simulation). Kept only for FILE arguments; the database stores totals, not sequences.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analytics/aggregates.hpp"

namespace moe {

class RoutingSequence {
  public:
    struct Entry {
        TagId tag;       // the record's own tag (kAllTag when it had none)
        int32_t layer;   //
        uint32_t k;      // number of ids
        uint64_t begin;  // offset into the id (and weight) arrays
        bool weighted;   // weights present
    };

    // `keep_logits`: also keep each record's full router logits (kde --logits), which cost
    // 4 bytes per expert per record.
    explicit RoutingSequence(bool keep_logits = false) : keep_logits_(keep_logits) {}

    void add(TagId tag, const RoutingRecord& r);
    const std::vector<Entry>& entries() const { return entries_; }
    std::span<const int32_t> experts(const Entry& e) const {
        return {experts_.data() + e.begin, e.k};
    }
    // Empty when the record carried no weights.
    std::span<const float> weights(const Entry& e) const {
        if (!e.weighted) return {};
        return {weights_.data() + e.begin, e.k};
    }
    // Empty when the record carried none or they were not kept.
    std::span<const float> logits(const Entry& e) const {
        if (!keep_logits_) return {};
        const size_t i = static_cast<size_t>(&e - entries_.data());
        return {logits_.data() + logit_begin_[i], logit_begin_[i + 1] - logit_begin_[i]};
    }
    bool empty() const { return entries_.empty(); }

  private:
    std::vector<Entry> entries_;
    std::vector<int32_t> experts_;
    std::vector<float> weights_;  // same offsets as experts_ (0 where a record had none)
    bool keep_logits_ = false;
    std::vector<float> logits_;
    std::vector<uint64_t> logit_begin_{0};  // entry i's logits: [begin[i], begin[i + 1])
};

// Whether `e` counts under `tag` (every record counts under "all").
inline bool in_tag(const RoutingSequence::Entry& e, TagId tag) {
    return tag == kAllTag || e.tag == tag;
}

}  // namespace moe
