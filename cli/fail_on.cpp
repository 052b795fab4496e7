#include "cli/fail_on.hpp"

#include <cmath>
#include <stdexcept>

#include "cli/table.hpp"

namespace moe {

bool FailRule::crossed_by(double v) const {
    if (std::isnan(v)) return false;
    switch (op) {
        case Op::greater:
            return v > threshold;
        case Op::greater_equal:
            return v >= threshold;
        case Op::less:
            return v < threshold;
        case Op::less_equal:
            return v <= threshold;
    }
    return false;
}

namespace {

std::string names(std::span<const FailMetric> metrics) {
    std::string s;
    for (const FailMetric& m : metrics)
        s += (s.empty() ? "" : ", ") + std::string(m.name);
    return s;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

FailRule parse_fail_on(std::string_view text, std::string_view command,
                       std::span<const FailMetric> metrics) {
    const auto bad = [&](const std::string& why) {
        return std::invalid_argument("--fail-on '" + std::string(text) + "': " + why);
    };
    const size_t at = text.find_first_of("<>");
    if (at == std::string_view::npos)
        throw bad("expected METRIC>VALUE or METRIC<VALUE (also >=, <=), e.g. " +
                  std::string(metrics.empty() ? "js" : metrics.front().name) + ">0.05");
    FailRule g;
    g.text = std::string(text);
    g.metric = std::string(trim(text.substr(0, at)));
    const bool greater = text[at] == '>';
    size_t value_at = at + 1;
    const bool or_equal = value_at < text.size() && text[value_at] == '=';
    if (or_equal) ++value_at;
    g.op = greater ? (or_equal ? FailRule::Op::greater_equal : FailRule::Op::greater)
                   : (or_equal ? FailRule::Op::less_equal : FailRule::Op::less);
    bool known = false;
    for (const FailMetric& m : metrics)
        known |= m.name == g.metric;
    if (!known)
        throw bad("`" + std::string(command) + "` has no metric '" + g.metric +
                  "' (it has: " + names(metrics) + ")");
    const std::string value(trim(text.substr(value_at)));
    size_t used = 0;
    try {
        g.threshold = std::stod(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    // Decimal only: std::stod also reads hex ("0x10") and "inf".
    if (value.empty() || used != value.size() || !std::isfinite(g.threshold) ||
        value.find_first_of("xXpP") != std::string::npos)
        throw bad("'" + value + "' is not a number");
    // Every gated figure is a fraction, a probability or bits from 0 to 1: a threshold a
    // value can never cross would pass every run, so it is refused.
    if (g.threshold < 0 || g.threshold > 1)
        throw bad("'" + g.metric + "' is from 0 to 1: " + value + " is outside it");
    if ((g.op == FailRule::Op::greater && g.threshold == 1) ||
        (g.op == FailRule::Op::less && g.threshold == 0))
        throw bad("'" + g.metric + "' is from 0 to 1: it can never be " +
                  (g.op == FailRule::Op::greater ? "above 1" : "below 0"));
    return g;
}

std::vector<std::string> fail_crossings(std::span<const FailRule> rules,
                                        std::span<const FailReading> readings) {
    std::vector<std::string> out;
    for (const FailRule& g : rules)
        for (const FailReading& r : readings) {
            if (r.metric != g.metric || !g.crossed_by(r.value)) continue;
            out.push_back(
                "--fail-on " + g.text + ": " +
                (r.layer < 0 ? std::string("all layers") : "layer " + std::to_string(r.layer)) +
                (r.where.empty() ? "" : ", " + r.where) + ": " + g.metric + " " +
                fmt_num::sig(r.value, 4));
        }
    return out;
}

FailGaps fail_gaps(std::span<const FailRule> rules, std::span<const FailReading> readings) {
    FailGaps out;
    for (const FailRule& g : rules) {
        size_t total = 0, undefined = 0;
        for (const FailReading& r : readings)
            if (r.metric == g.metric) ++total, undefined += std::isnan(r.value);
        if (total == undefined)
            out.refused.push_back("--fail-on " + g.text + ": no layer has a defined " + g.metric +
                                  " on these inputs (count-only engine totals have no p-value "
                                  "or noise floor; a side with too few tokens has no verdict), "
                                  "so the gate cannot apply");
        else if (undefined)
            out.notes.push_back("--fail-on " + g.text + ": " + std::to_string(undefined) + " of " +
                                std::to_string(total) + " readings of " + g.metric +
                                " undefined (too few tokens or no test), not gated");
    }
    return out;
}

std::string fail_on_help(std::span<const FailMetric> metrics) {
    std::string s =
        "Exit 4 when a figure crosses a threshold, one line per crossing (for CI): "
        "METRIC>VALUE, >=, < or <=; repeatable. Metrics:";
    for (size_t i = 0; i < metrics.size(); ++i)
        s += std::string(i ? ";" : "") + " " + std::string(metrics[i].name) + " = " +
             std::string(metrics[i].what);
    return s;
}

}  // namespace moe
