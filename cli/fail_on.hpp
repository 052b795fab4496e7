// --fail-on METRIC>VALUE: a deployment gate for CI (docs/FIGURES.md "CI thresholds"). A command
// declares the metrics it can be gated on (FailMetric, once: --help and parsing come from
// it) and reads their values per layer from its result (FailReading); the runner prints
// one line per crossing and exits kExitFailOn.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

inline constexpr int kExitFailOn = 4;

// Every gated figure is from 0 to 1 (bits of JS divergence, probabilities, fractions):
// parse_fail_on refuses a threshold no value can cross, which would pass every run.
struct FailMetric {
    std::string_view name;  // as written in --fail-on: "js"
    std::string_view what;  // for --help: "JS divergence of a layer's shares (bits)"
};

// One value a gate can be checked against: a layer's (-1: all layers combined), with where
// it comes from when a layer has several (a drift window's start).
struct FailReading {
    int32_t layer = -1;
    std::string_view metric;
    double value = 0;
    std::string where;  // "" or e.g. "window 2026-12-01T10:00:00Z"
};

struct FailRule {
    std::string text;  // as given
    std::string metric;
    enum class Op { greater, greater_equal, less, less_equal } op = Op::greater;
    double threshold = 0;
    bool crossed_by(double v) const;
};

// "js>0.05", "overlap < 0.9": throws std::invalid_argument (one line) when the syntax is
// wrong or the metric is not one of `metrics`.
FailRule parse_fail_on(std::string_view text, std::string_view command,
                       std::span<const FailMetric> metrics);

// One line per reading that crosses a gate: "--fail-on js>0.05: layer 3: js 0.0712".
// Undefined values (NaN) cross nothing.
std::vector<std::string> fail_crossings(std::span<const FailRule> rules,
                                        std::span<const FailReading> readings);

// What a gate could not judge. A rule whose metric has no defined reading at all cannot
// apply (count-only engine totals have no p-value; every layer has too few tokens): the
// runner refuses it (`refused`, exit 2) instead of passing. Undefined readings of a rule that
// does apply are named (`notes`: "2 of 33 layers undefined, not gated").
struct FailGaps {
    std::vector<std::string> refused, notes;
};
FailGaps fail_gaps(std::span<const FailRule> rules, std::span<const FailReading> readings);

// The --help text of --fail-on for these metrics.
std::string fail_on_help(std::span<const FailMetric> metrics);

}  // namespace moe
