#include "decisions/drift.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "analytics/tag_compare.hpp"

namespace moe {

std::string_view drift_verdict_name(DriftVerdict v) {
    switch (v) {
        case DriftVerdict::drifted:
            return "drifted";
        case DriftVerdict::too_few_tokens:
            return "too_few_tokens";
        case DriftVerdict::stable:
            break;
    }
    return "stable";
}

DriftPoint drift_of(std::span<const uint64_t> baseline, std::span<const uint64_t> window,
                    uint64_t window_tokens, const DriftThresholds& t) {
    DriftPoint d;
    d.tokens = window_tokens;
    d.js_bits = js_divergence_bits(baseline, window);
    d.js_noise_floor = js_noise_floor(baseline, window);
    d.chi2 = chi2_homogeneity(baseline, window);
    double sb = 0, sw = 0;
    for (uint64_t h : baseline)
        sb += static_cast<double>(h);
    for (uint64_t h : window)
        sw += static_cast<double>(h);
    const size_t E = std::max(baseline.size(), window.size());
    for (size_t e = 0; e < E && sb > 0 && sw > 0; ++e) {
        ExpertMove m;
        m.expert = static_cast<int32_t>(e);
        m.share_baseline = (e < baseline.size() ? static_cast<double>(baseline[e]) : 0) / sb;
        m.share_window = (e < window.size() ? static_cast<double>(window[e]) : 0) / sw;
        m.diff = m.share_window - m.share_baseline;
        d.movers.push_back(m);
    }
    std::stable_sort(d.movers.begin(), d.movers.end(),
                     [](const ExpertMove& a, const ExpertMove& b) {
                         return std::fabs(a.diff) > std::fabs(b.diff);
                     });
    if (d.movers.size() > t.movers) d.movers.resize(t.movers);
    if (window_tokens < t.min_tokens || std::isnan(d.chi2.p_value))
        d.verdict = DriftVerdict::too_few_tokens;
    else if (d.chi2.p_value < t.alpha && d.js_bits > d.js_noise_floor && d.js_bits >= t.min_js)
        d.verdict = DriftVerdict::drifted;
    return d;
}

std::optional<int64_t> parse_duration(std::string_view text) {
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || n <= 0) return std::nullopt;
    const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
    int64_t scale = 0;
    if (unit.empty() || unit == "s")
        scale = 1;
    else if (unit == "m")
        scale = 60;
    else if (unit == "h")
        scale = 3600;
    else if (unit == "d")
        scale = 86400;
    else
        return std::nullopt;
    if (n > INT64_MAX / scale) return std::nullopt;
    return n * scale;
}

}  // namespace moe
