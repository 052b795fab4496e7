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
    // NaN js: a side is empty, nothing moved (compare's shares would be NaN).
    if (!std::isnan(d.js_bits))
        for (const ExpertShareDiff& s :
             share_diffs(window, baseline, std::max(baseline.size(), window.size())))
            d.movers.push_back({s.expert, s.share_b, s.share_a, s.diff});
    if (d.movers.size() > t.movers) d.movers.resize(t.movers);
    if (window_tokens < t.min_tokens || std::isnan(d.chi2.p_value))
        d.verdict = DriftVerdict::too_few_tokens;
    else if (differs(d.js_bits, d.chi2.p_value, d.js_noise_floor, t.alpha, t.min_js))
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
