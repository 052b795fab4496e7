// Has routing drifted from a baseline? One window's counts against the baseline's: JS
// divergence, its noise floor, Pearson's chi-square p-value, the experts that moved most
// and a verdict (docs/FIGURES.md "Drift"). Pure functions: `moescope drift` and the
// daemon's live drift gauges both use them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "decisions/significance.hpp"

namespace moe {

struct DriftThresholds {
    double alpha = 0.01;  // chi-square p-value below this: the difference is not noise
    double min_js = 0;    // and the JS divergence (bits) at least this
    size_t movers = 3;    // experts listed per window
    uint64_t min_tokens = kMinTokensToJudge;  // fewer tokens in a window: no verdict
};

struct ExpertMove {
    int32_t expert = 0;
    double share_baseline = 0, share_window = 0;
    double diff = 0;  // share_window - share_baseline
};

enum class DriftVerdict { stable, drifted, too_few_tokens };
std::string_view drift_verdict_name(DriftVerdict v);

struct DriftPoint {
    uint64_t tokens = 0;             // of the window
    double js_bits = 0;              // window vs baseline shares of selections
    double js_noise_floor = 0;       // js_noise_floor(baseline, window)
    Chi2Test chi2;                   // chi2_homogeneity(baseline, window)
    std::vector<ExpertMove> movers;  // by |diff| descending
    DriftVerdict verdict = DriftVerdict::stable;
};

// `baseline` and `window` are hit counts per expert; `window_tokens` decides the verdict's
// too_few_tokens. Drifted: p < alpha, JS above its noise floor and >= min_js.
DriftPoint drift_of(std::span<const uint64_t> baseline, std::span<const uint64_t> window,
                    uint64_t window_tokens, const DriftThresholds& t = {});

// "90", "90s", "10m", "1h", "1d" -> seconds; nullopt for anything else or <= 0.
std::optional<int64_t> parse_duration(std::string_view text);

}  // namespace moe
