// A layer's top-k from its first records, so one odd line cannot poison a layer
// (docs/GUARANTEES.md, docs/FIGURES.md "Top-k of a layer"). While a layer has no top-k yet
// (none stated by a meta record or --top-k, none counted) and its first record's k is not
// one another layer already counts, its records are held, not counted.
// The layer is decided as soon as one k has 2 held records; or, when 4,096 further routing
// records of the stream went by first (or the stream ends), by the k with most held records
// (a tie: the k seen first). The decided k's records are then counted in their order; the
// others are topk_changed rejects. A followed file also decides before each commit of the
// daemon (StreamIngest::settle_pending). Per stream; saved in the stream checkpoint.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "ingest/held_record.hpp"

namespace moe {

class TopKProbation {
  public:
    static constexpr uint64_t kWindow = 4096;
    static constexpr size_t kAgree = 2;

    bool holds(int32_t layer) const { return pending_.count(layer) != 0; }
    bool empty() const { return pending_.empty(); }
    // Holds a record of a layer on probation; `seq` numbers the stream's routing records.
    void add(HeldRecord h, uint64_t seq);
    // Decides the layers that are due (all of them when `all`): out(record, accepted) for
    // each held record, the accepted ones first, each group in arrival order.
    template <class F>
    void settle(uint64_t seq, bool all, F&& out) {
        for (auto it = pending_.begin(); it != pending_.end();) {
            const auto k = decided_k(it->second, seq, all);
            if (!k) {
                ++it;
                continue;
            }
            std::vector<HeldRecord> records = std::move(it->second.records);
            it = pending_.erase(it);
            for (HeldRecord& h : records)
                if (h.experts.size() == *k) out(std::move(h), true);
            for (HeldRecord& h : records)
                if (h.experts.size() != *k && !h.experts.empty()) out(std::move(h), false);
        }
    }
    void clear() { pending_.clear(); }
    void save(StateWriter& w) const;
    bool restore(StateReader& r);

  private:
    struct Pending {
        uint64_t first_seq = 0;
        std::vector<HeldRecord> records;
    };
    // The k to keep, or none while undecided.
    static std::optional<size_t> decided_k(const Pending& p, uint64_t seq, bool all);
    std::map<int32_t, Pending> pending_;
};

}  // namespace moe
