// What the JS monitor (daemon/drift_monitor.hpp) and the live KDE test (daemon/live_kde.hpp)
// share: which window of a series to evaluate, and the exposition of per-(tag, layer) gauges
// against a baseline tag, so their windows and label sets cannot drift apart.
#pragma once

#include <cmath>
#include <map>
#include <span>
#include <string>
#include <utility>

#include <spdlog/fmt/fmt.h>

#include "daemon/prometheus_text.hpp"

namespace moe {

template <class Latest>
struct DriftGauge {
    const char* name;
    const char* help;
    double (*value)(const Latest&);
};

// The newest of `windows` (by start) that started at or before `closed_before` (so has
// ended), once the older ones are dropped; windows.end() when none has.
template <class Windows>
typename Windows::iterator newest_closed(Windows& windows, int64_t closed_before) {
    auto it = windows.upper_bound(closed_before);
    if (it == windows.begin()) return windows.end();
    --it;
    windows.erase(windows.begin(), it);
    return it;
}

// One gauge family per entry of `gauges`, a sample per series {tag, layer, baseline}.
template <class Latest>
std::string drift_gauges(std::span<const DriftGauge<Latest>> gauges,
                         const std::map<std::pair<std::string, int32_t>, Latest>& latest,
                         const std::string& baseline) {
    std::string s;
    if (latest.empty()) return s;
    for (const auto& g : gauges) {
        s += std::string("# HELP ") + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
        for (const auto& [series, l] : latest) {
            const double v = g.value(l);
            s += std::string(g.name) + "{tag=\"" + prometheus_label(series.first) + "\",layer=\"" +
                 (series.second < 0 ? "all" : std::to_string(series.second)) + "\",baseline=\"" +
                 prometheus_label(baseline) + "\"} " +
                 (std::isnan(v) ? std::string("NaN") : fmt::format("{}", v)) + "\n";
        }
    }
    return s;
}

}  // namespace moe
