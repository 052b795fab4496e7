#include "daemon/live_kde.hpp"

#include <cmath>
#include <stdexcept>

#include "daemon/drift_gauges.hpp"
#include "storage/kde_store.hpp"
#include "storage/store.hpp"

namespace moe {

LiveKde::LiveKde(std::string baseline, int64_t window_seconds, size_t max_series, KdeQuantity q,
                 std::map<int32_t, LayerFit> fits)
    : baseline_(std::move(baseline)),
      window_seconds_(window_seconds),
      max_series_(max_series),
      q_(q),
      fits_(std::move(fits)) {}

LiveKde LiveKde::load(const std::string& db_path, const std::string& value,
                      const std::string& baseline, int64_t window_seconds, size_t max_series) {
    Store store = Store::open_read_only(db_path);
    std::string name = value;
    if (name.empty()) {
        std::vector<std::string> values;
        for (const auto& [tag, v] : kde_fit_keys(store.db()))
            if (tag == baseline) values.push_back(v);
        if (values.size() > 1)
            throw std::runtime_error("--drift-kde " + db_path + " holds several fits of tag '" +
                                     baseline + "' (" + describe_kde_fits(store.db()) +
                                     "); choose one with --drift-kde-value");
        if (!values.empty()) name = values.front();
    }
    const auto q = KdeQuantity::parse(name);
    std::map<int32_t, LayerFit> fits;
    if (q)
        for (auto& r : load_kde_fits(store.db(), baseline, name))
            fits[r.layer] = {{r.n, r.bandwidth, r.lo, r.hi, std::move(r.cdf)}, r.expert};
    if (fits.empty())
        throw std::runtime_error(
            "--drift-kde " + db_path + " holds no " + (name.empty() ? "" : name + " ") +
            "fit of tag '" + baseline + "' (" + describe_kde_fits(store.db()) +
            "; store one with moescope kde --fit " + baseline + " FILE... --db " + db_path + ")");
    return LiveKde(baseline, window_seconds, max_series, *q, std::move(fits));
}

LiveKde::Series& LiveKde::series(const Aggregates& agg, TagId tag, int32_t layer) {
    const uint64_t key = (uint64_t{tag} << 32) | static_cast<uint32_t>(layer);
    auto [it, fresh] = series_.try_emplace(key);
    Series& s = it->second;
    if (fresh) {
        s.tag = agg.tag(tag).name;
        s.layer = layer;
        s.skip = s.tag == baseline_ || kept_series_ >= max_series_;
        kept_series_ += !s.skip;
    }
    return s;
}

void LiveKde::record(const Aggregates& agg, TagId tag, const RoutingRecord& r, double when) {
    if (!std::isfinite(when)) return;
    const auto fit = fits_.find(r.layer);
    if (fit == fits_.end()) return;
    values_.clear();
    kde_values_of(q_, r.experts, r.weights, r.logits, fit->second.expert, scratch_, values_);
    if (values_.empty()) return;
    const int64_t start = window_start(static_cast<int64_t>(std::floor(when)), window_seconds_);
    for (const TagId id : {tag, kAllTag}) {
        Series& s = series(agg, id, r.layer);
        if (!s.skip) {
            Window& w = s.windows[start];
            for (double v : values_)
                ++w.bins[p_value_bin(fit->second.cdf.upper_tail(v), kBins)];
            w.touched = true;
        }
        if (tag == kAllTag) break;
    }
}

void LiveKde::close(double now) {
    const auto closed_before = static_cast<int64_t>(std::floor(now)) - window_seconds_;
    for (auto& [key, s] : series_) {
        const auto it = newest_closed(s.windows, closed_before);
        if (it == s.windows.end()) continue;
        Latest& l = latest_[{s.tag, s.layer}];
        if (it->second.touched || l.start != it->first) {
            l.start = it->first;
            l.ks = ks_uniform_binned(it->second.bins);
            l.values = 0;
            for (uint32_t c : it->second.bins)
                l.values += c;
            it->second.touched = false;
        }
    }
}

std::string LiveKde::prometheus() const {
    static const DriftGauge<Latest> gauges[] = {
        {"moescope_drift_ks",
         "KS distance from uniform of the last closed window's p-values against the baseline's "
         "stored KDE fit",
         [](const Latest& l) { return l.ks; }},
        {"moescope_drift_kde_values", "values tested against the fit in the last closed window",
         [](const Latest& l) { return static_cast<double>(l.values); }},
    };
    return drift_gauges<Latest>(gauges, latest_, baseline_);
}

}  // namespace moe
