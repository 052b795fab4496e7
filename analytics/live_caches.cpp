#include "analytics/live_caches.hpp"

namespace moe {

void LiveCaches::advance(Aggregates& changes) {
    for (TagId t = 0; t < changes.tag_count(); ++t) {
        TagStats& ts = changes.tag(t);
        for (size_t l = 0; l < ts.layers.size(); ++l) {
            if (!ts.layers[l] || ts.layers[l]->caches.pending.empty()) continue;
            CacheSet& carried = ts.layers[l]->caches;
            auto [it, fresh] = caches_.try_emplace({ts.name, static_cast<int32_t>(l)});
            CacheSet& live = it->second;
            if (fresh) {
                live = carried;  // counters and configuration; contents are empty
                live.pending.clear();
            }
            live.pending.swap(carried.pending);
            live.simulate();
            carried.copy_counts(live);
        }
    }
}

void LiveCaches::copy_counts(const Aggregates& from, Aggregates& to) {
    for (TagId t = 0; t < from.tag_count(); ++t) {
        const TagStats& ts = from.tag(t);
        const auto id = to.find_tag(ts.name);
        if (!id) continue;
        TagStats& mine = to.tag(*id);
        for (size_t l = 0; l < ts.layers.size(); ++l)
            if (ts.layers[l] && !ts.layers[l]->caches.caches.empty())
                mine.layer_or_create(static_cast<int32_t>(l))
                    .caches.copy_counts(ts.layers[l]->caches);
    }
}

}  // namespace moe
