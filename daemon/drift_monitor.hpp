// Live drift (docs/OPERATIONS.md "Drift alerts"): the daemon's timeline increments are summed into
// windows of --drift-window per tag and layer; each closed window is compared with the
// --drift-baseline tag's totals (decisions/drift.hpp) and exposed as gauges; a JS divergence
// crossing --drift-alert logs one warning per (tag, layer) and episode, not per window. With
// --drift-kde, the same windows are also tested against the baseline's stored KDE fit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analytics/aggregates.hpp"
#include "daemon/live_kde.hpp"
#include "decisions/drift.hpp"

namespace moe {

struct DriftConfig {
    std::string baseline;  // tag; "" disables drift
    int64_t window_seconds = 600;
    double alert_js = 0;       // bits; 0: no alerts
    size_t max_series = 4096;  // (tag, layer) pairs kept, bounding the exposition
    std::string kde_db;        // --drift-kde: a database with a KDE fit of the baseline
    std::string kde_value;     // --drift-kde-value: which stored fit ("": the only one)
};

class DriftMonitor {
  public:
    // Loads the --drift-kde fit (throws std::runtime_error when it is not there).
    explicit DriftMonitor(DriftConfig cfg);
    bool enabled() const { return !cfg_.baseline.empty(); }
    // The live KDE test (--drift-kde) needs every counted record (Aggregates::RoutingTap).
    const LiveKde* kde() const { return kde_.get(); }
    void record(const Aggregates& agg, TagId tag, const RoutingRecord& r, double when) {
        kde_->record(agg, tag, r, when);
    }

    // `changes`: what take_changes() handed over (its timeline holds the new increments);
    // `live`: the daemon's aggregates, whose baseline tag is the reference. Windows ending
    // at or before `now` (seconds since the epoch) are closed and evaluated.
    void observe(const Aggregates& changes, const Aggregates& live, double now);
    // The write of `changes` (observed already) failed and they go back to be handed over
    // again with the next flush's: that flush counts only what is new.
    void write_failed(const Aggregates& changes);

    // Gauges moescope_drift_js / _p_value / _noise_js / _window_start{tag,layer}, and the
    // live KDE test's.
    std::string prometheus() const;

    struct Latest {
        int64_t start = 0;  // the window evaluated last
        DriftPoint point;
        bool alerting = false;
    };
    const std::map<std::pair<std::string, int32_t>, Latest>& latest() const { return latest_; }

  private:
    struct Open {
        uint64_t tokens = 0;
        std::vector<uint64_t> hits;
    };
    void evaluate(const std::string& tag, int32_t layer, int64_t start, const Open& w,
                  const Aggregates& live);

    DriftConfig cfg_;
    // (tag, layer) -> window start -> counts of windows not yet closed.
    std::map<std::pair<std::string, int32_t>, std::map<int64_t, Open>> open_;
    std::map<std::pair<std::string, int32_t>, Latest> latest_;
    // Increments observed already that a failed write handed back (write_failed).
    Timeline seen_;
    std::unique_ptr<LiveKde> kde_;
};

}  // namespace moe
