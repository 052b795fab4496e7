#include "daemon/drift_monitor.hpp"

#include <cmath>
#include <set>
#include <tuple>

#include <spdlog/spdlog.h>

#include "analytics/source_stats.hpp"
#include "daemon/drift_gauges.hpp"

namespace moe {

DriftMonitor::DriftMonitor(DriftConfig cfg) : cfg_(std::move(cfg)) {
    if (cfg_.kde_db.empty()) return;
    kde_ = std::make_unique<LiveKde>(LiveKde::load(cfg_.kde_db, cfg_.kde_value, cfg_.baseline,
                                                   cfg_.window_seconds, cfg_.max_series));
    spdlog::info("drift: testing {} against the KDE fit of tag '{}' ({} layers) in {}",
                 kde_->quantity().name(), cfg_.baseline, kde_->layers(), cfg_.kde_db);
}

void DriftMonitor::write_failed(const Aggregates& changes) {
    for (const auto& [key, b] : changes.timeline().buckets())
        seen_.add_counts(key, b);
}

void DriftMonitor::observe(const Aggregates& changes, const Aggregates& live, double now) {
    if (!enabled()) return;
    if (kde_) kde_->close(now);
    const int64_t W = cfg_.window_seconds;
    // Windows that got records in this flush: only those need evaluating again (the noise
    // floor's resampling is not free, and the open window gets records at every flush).
    std::set<std::tuple<std::string, int32_t, int64_t>> touched;
    for (const auto& [key, b] : changes.timeline().buckets()) {
        if (key.tag >= changes.tag_count()) continue;
        const std::string& tag = changes.tag(key.tag).name;
        if (tag == cfg_.baseline) continue;
        const std::pair<std::string, int32_t> series{tag, key.layer};
        if (!open_.count(series) && open_.size() >= cfg_.max_series) continue;
        const int64_t start = window_start(key.start, W);
        Open& o = open_[series][start];
        // A failed write's increments come back inside these and were counted then.
        const auto seen = seen_.buckets().find(key);
        const BucketCounts* minus = seen == seen_.buckets().end() ? nullptr : &seen->second;
        o.tokens += b.tokens - (minus ? minus->tokens : 0);
        if (o.hits.size() < b.hits.size()) o.hits.resize(b.hits.size(), 0);
        for (size_t e = 0; e < b.hits.size(); ++e)
            o.hits[e] += b.hits[e] - (minus && e < minus->hits.size() ? minus->hits[e] : 0);
        touched.insert({tag, key.layer, start});
    }
    seen_.clear();  // every restored increment was in this hand-over
    // Per series, the newest window that has ended is (re)evaluated when it is new or got
    // records (a window's records may arrive over several flushes); older ones are dropped.
    const auto closed_before = static_cast<int64_t>(std::floor(now)) - W;
    for (auto& [series, windows] : open_) {
        const auto it = newest_closed(windows, closed_before);
        if (it == windows.end()) continue;
        const auto shown = latest_.find(series);
        if (touched.count({series.first, series.second, it->first}) || shown == latest_.end() ||
            shown->second.start != it->first)
            evaluate(series.first, series.second, it->first, it->second, live);
    }
}

void DriftMonitor::evaluate(const std::string& tag, int32_t layer, int64_t start, const Open& w,
                            const Aggregates& live) {
    const auto id = live.find_tag(cfg_.baseline);
    if (!id) return;  // no baseline records yet
    const TagStats& base = live.tag(*id);
    const LayerStats* b = layer < 0 ? &base.global : base.layer(layer);
    if (!b || b->tokens == 0) return;
    Latest& l = latest_[{tag, layer}];
    l.start = start;
    l.point = drift_of(b->hits, w.hits, w.tokens);
    if (cfg_.alert_js <= 0 || std::isnan(l.point.js_bits)) return;
    // Tags come from records, written by any client: escaped, so a log line cannot drive the
    // terminal that shows it.
    const std::string where = "tag '" + SourceStats::sample_of(tag) + "' layer " +
                              (layer < 0 ? std::string("all") : std::to_string(layer));
    if (l.point.js_bits > cfg_.alert_js && !l.alerting) {
        l.alerting = true;
        spdlog::warn(
            "drift: {} JS {:.4f} bits > {} against tag '{}' (window of {} tokens, "
            "chi-square p {:.3g})",
            where, l.point.js_bits, cfg_.alert_js, cfg_.baseline, w.tokens, l.point.chi2.p_value);
    } else if (l.point.js_bits <= cfg_.alert_js && l.alerting) {
        l.alerting = false;
        spdlog::info("drift: {} back below {} bits (JS {:.4f})", where, cfg_.alert_js,
                     l.point.js_bits);
    }
}

std::string DriftMonitor::prometheus() const {
    static const DriftGauge<Latest> gauges[] = {
        {"moescope_drift_js", "JS divergence (bits) of the last closed window vs the baseline",
         [](const Latest& l) { return l.point.js_bits; }},
        {"moescope_drift_noise_js", "JS divergence expected from sampling noise alone (bits)",
         [](const Latest& l) { return l.point.js_noise_floor; }},
        {"moescope_drift_p_value", "chi-square p-value of the last closed window vs the baseline",
         [](const Latest& l) { return l.point.chi2.p_value; }},
        {"moescope_drift_window_start_seconds", "start of the last closed window",
         [](const Latest& l) { return static_cast<double>(l.start); }},
    };
    return drift_gauges<Latest>(gauges, latest_, cfg_.baseline) +
           (kde_ ? kde_->prometheus() : std::string());
}

}  // namespace moe
