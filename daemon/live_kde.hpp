// The daemon's live test against a stored reference fit (moescoped --drift-kde DB;
// docs/OPERATIONS.md "Drift alerts", docs/FIGURES.md "Reference distributions"): every counted
// record's values of the fit's quantity get their p-values from the baseline's fit of their layer,
// counted in 1,000 bins per (tag, layer) and --drift-window; each closed window's KS distance from
// uniform (from the bins: at most 0.001 below the exact one) is exposed as a gauge.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analytics/aggregates.hpp"
#include "decisions/kde.hpp"
#include "decisions/kde_values.hpp"

namespace moe {

class LiveKde {
  public:
    struct LayerFit {
        KdeCdf cdf;
        int32_t expert = -1;  // popularP_* fits: the reference's expert
    };
    static constexpr size_t kBins = 1000;

    LiveKde(std::string baseline, int64_t window_seconds, size_t max_series, KdeQuantity q,
            std::map<int32_t, LayerFit> fits);
    // The fits of tag `baseline` stored in `db_path` (moescope kde --fit BASELINE FILE --db
    // DB) of `value`, or of the only value stored for that tag when `value` is empty.
    // Throws std::runtime_error with a message for the user.
    static LiveKde load(const std::string& db_path, const std::string& value,
                        const std::string& baseline, int64_t window_seconds, size_t max_series);

    const KdeQuantity& quantity() const { return q_; }
    size_t layers() const { return fits_.size(); }

    // One counted record (Aggregates::RoutingTap): under its tag and under "all", unless
    // that is the baseline; records without a time or of a layer without a fit are skipped.
    void record(const Aggregates& agg, TagId tag, const RoutingRecord& r, double when);
    // Evaluates, per series, the newest window that ended at or before `now` when it is new
    // or got values since; older windows are dropped.
    void close(double now);

    struct Latest {
        int64_t start = 0;
        uint64_t values = 0;
        double ks = 0;
    };
    const std::map<std::pair<std::string, int32_t>, Latest>& latest() const { return latest_; }
    // Gauges moescope_drift_ks and moescope_drift_kde_values{tag,layer,baseline}.
    std::string prometheus() const;

  private:
    struct Window {
        std::vector<uint32_t> bins = std::vector<uint32_t>(kBins, 0);
        bool touched = true;
    };
    struct Series {
        std::string tag;
        int32_t layer = 0;
        bool skip = false;  // the baseline itself, or beyond max_series
        std::map<int64_t, Window> windows;
    };
    Series& series(const Aggregates& agg, TagId tag, int32_t layer);

    std::string baseline_;
    int64_t window_seconds_;
    size_t max_series_;
    KdeQuantity q_;
    std::map<int32_t, LayerFit> fits_;
    std::unordered_map<uint64_t, Series> series_;  // (tag << 32 | layer)
    size_t kept_series_ = 0;
    std::map<std::pair<std::string, int32_t>, Latest> latest_;
    std::vector<float> scratch_;
    std::vector<double> values_;
};

}  // namespace moe
