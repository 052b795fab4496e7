// `moescope drift --baseline TAG | --baseline-window T0..T1 [--window 1h]`: per layer, each
// recent window's routing against a baseline (decisions/drift.hpp, docs/FIGURES.md "Drift").
#include <algorithm>
#include <map>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/deep_report.hpp"
#include "cli/time_spec.hpp"
#include "cli/verdict.hpp"
#include "decisions/drift.hpp"

namespace moe {

namespace {
// The drift command's own options: what the recent windows are compared with.
struct DriftArgs final : CommandOptions {
    std::string baseline;         // --baseline TAG
    std::string baseline_window;  // --baseline-window T0..T1
    std::string window = "1h";    // --window: width of the compared windows
    double alpha = 0.01;
};

struct Counts {
    uint64_t tokens = 0;
    std::vector<uint64_t> hits;
    void add(uint64_t t, const std::vector<uint64_t>& h) {
        tokens += t;
        if (hits.size() < h.size()) hits.resize(h.size(), 0);
        for (size_t e = 0; e < h.size(); ++e)
            hits[e] += h[e];
    }
};

struct WindowDrift {
    int64_t start = 0;
    DriftPoint point;
};

struct LayerDrift {
    int32_t layer = -1;
    uint64_t baseline_tokens = 0;
    std::vector<WindowDrift> windows;  // oldest first
    DriftVerdict verdict() const {
        return windows.empty() ? DriftVerdict::too_few_tokens : windows.back().point.verdict;
    }
};

struct DriftPlan {
    std::string baseline;  // how the baseline was chosen, for the reader
    int64_t window = 3600;
    std::vector<LayerDrift> layers;
};

std::pair<int64_t, int64_t> parse_range(const std::string& text) {
    const auto dots = text.find("..");
    const auto bad = [&] {
        return std::invalid_argument("--baseline-window '" + text + "': expected T0..T1 with " +
                                     kTimeSpecForms);
    };
    if (dots == std::string::npos) throw bad();
    const int64_t now = now_seconds();
    const auto t0 = parse_time_spec(text.substr(0, dots), now);
    const auto t1 = parse_time_spec(text.substr(dots + 2), now);
    if (!t0 || !t1) throw bad();
    if (*t0 >= *t1) throw std::invalid_argument("--baseline-window '" + text + "': T0 >= T1");
    return {*t0, *t1};
}

DriftPlan plan(const Query& x) {
    const auto& d = x.own<DriftArgs>();
    if (d.baseline.empty() == d.baseline_window.empty())
        throw std::invalid_argument(
            "drift needs exactly one of --baseline TAG and "
            "--baseline-window T0..T1");
    DriftPlan p;
    const auto w = parse_duration(d.window);
    if (!w) throw std::invalid_argument("--window '" + d.window + "': expected 90s, 10m, 1h, 1d");
    p.window = *w;
    if (!(d.alpha > 0 && d.alpha < 1)) throw std::invalid_argument("--alpha must be in (0, 1)");
    const TagId tag = x.tag_id();
    const int32_t only = x.q.layer.value_or(INT32_MIN);

    // Baseline counts per layer, and the buckets that are not part of the baseline.
    std::map<int32_t, Counts> base;
    int64_t b0 = INT64_MAX, b1 = INT64_MIN;  // baseline window (empty for a tag)
    if (!d.baseline.empty()) {
        const TagStats& t = x.tag_named(d.baseline);
        p.baseline = "tag '" + t.name + "'";
        for (int32_t l : t.layer_ids())
            base[l].add(t.layer(l)->tokens, t.layer(l)->hits);
        base[-1].add(t.global.tokens, t.global.hits);
    } else {
        std::tie(b0, b1) = parse_range(d.baseline_window);
        p.baseline = iso_utc(b0) + ".." + iso_utc(b1);
        for (const auto& [key, b] : x.agg.timeline().buckets())
            if (key.tag == tag && key.start >= b0 && key.start < b1)
                base[key.layer].add(b.tokens, b.hits);
    }
    // Without timed records there are no windows: say so (as --since does), not "no buckets
    // outside the baseline".
    const auto& buckets = x.agg.timeline().buckets();
    if (std::none_of(buckets.begin(), buckets.end(),
                     [&](const auto& kb) { return kb.first.tag == tag; }))
        throw NoDataError(
            "drift compares time windows and needs timed records; tag '" + x.tag().name +
            "' has none: " + untimed_reason(x.tag().global.count_only(), x.db.empty()));
    std::map<int32_t, std::map<int64_t, Counts>> windows;
    for (const auto& [key, b] : buckets) {
        if (key.tag != tag || (key.start >= b0 && key.start < b1)) continue;
        if (key.start < x.q.since || key.start >= x.q.until) continue;
        windows[key.layer][window_start(key.start, p.window)].add(b.tokens, b.hits);
    }
    DriftThresholds th;
    th.alpha = d.alpha;
    th.min_js = x.q.min_js;
    th.movers = x.q.top;
    // Layers ascending, all layers combined (-1) last, as in compare.
    std::vector<int32_t> order;
    for (const auto& [l, c] : base)
        if (l >= 0) order.push_back(l);
    order.push_back(-1);
    for (int32_t l : order) {
        if (only != INT32_MIN && l != only) continue;
        const auto bi = base.find(l);
        if (bi == base.end() || bi->second.tokens == 0) continue;
        LayerDrift ld;
        ld.layer = l;
        ld.baseline_tokens = bi->second.tokens;
        for (const auto& [start, c] : windows[l])
            ld.windows.push_back({start, drift_of(bi->second.hits, c.hits, c.tokens, th)});
        p.layers.push_back(std::move(ld));
    }
    if (p.layers.empty() || std::all_of(p.layers.begin(), p.layers.end(),
                                        [](const LayerDrift& l) { return l.windows.empty(); }))
        throw NoDataError("no time buckets of tag '" + x.tag().name + "' outside the baseline " +
                          p.baseline + " to compare with it");
    return p;
}

std::string layer_name(int32_t l) {
    return l < 0 ? "all" : std::to_string(l);
}

// The experts whose share moved most: "expert 0 +43.2pp, 13 -5.8pp" (CSV), or for the text
// table "E0 +43.2, E13 -5.8" (its header says pp), short enough to fit 100 columns.
std::string movers_text(const DriftPoint& d, bool compact) {
    std::string s;
    for (const auto& m : d.movers)
        s += (s.empty() ? (compact ? "E" : "expert ") : (compact ? ", E" : ", ")) +
             std::to_string(m.expert) + " " + (m.diff >= 0 ? "+" : "") +
             fmt_num::fixed(m.diff * 100, 1) + (compact ? "" : "pp");
    return s.empty() ? "-" : s;
}

// Per layer the latest window's verdict, counted: the line `drift` opens with.
VerdictLine drift_verdict(const DriftPlan& p) {
    size_t layers = 0, drifted = 0, stable = 0;
    const LayerDrift* all = nullptr;
    for (const auto& l : p.layers) {
        if (l.layer < 0) {
            all = &l;
            continue;
        }
        ++layers;
        drifted += l.verdict() == DriftVerdict::drifted;
        stable += l.verdict() == DriftVerdict::stable;
    }
    const bool any = drifted > 0 || (all && all->verdict() == DriftVerdict::drifted);
    const bool judged = any || stable > 0 || (all && all->verdict() == DriftVerdict::stable);
    std::string text =
        std::string(kVerdictPrefix) + (any      ? "drifted from the baseline"
                                       : judged ? "stable against the baseline"
                                                : "too few tokens to judge against the baseline");
    if (layers)
        text += " in " +
                layers_count(any      ? drifted
                             : judged ? stable
                                      : layers,
                             layers) +
                " (latest window)";
    if (all)
        text += std::string(layers ? "; " : " ") +
                "all layers: " + std::string(drift_verdict_name(all->verdict()));
    return {any ? "drifted" : judged ? "stable" : "too_few_tokens", text};
}

void write_json(JsonWriter& w, const Query& x) {
    const DriftPlan p = plan(x);
    write_verdict_json(w, drift_verdict(p));
    w.key("drift").begin_object();
    w.field("baseline", std::string_view(p.baseline)).field("window_seconds", p.window);
    w.field("alpha", x.own<DriftArgs>().alpha).key("layers").begin_array();
    for (const auto& l : p.layers) {
        w.begin_object();
        if (l.layer >= 0)
            w.field("layer", l.layer);
        else
            w.key("layer").null();
        w.field("baseline_tokens", l.baseline_tokens)
            .field("verdict", drift_verdict_name(l.verdict()));
        w.key("windows").begin_array();
        for (const auto& win : l.windows) {
            const DriftPoint& d = win.point;
            w.begin_object().field("start", win.start).field("tokens", d.tokens);
            w.field("js_divergence_bits", d.js_bits).field("js_noise_floor", d.js_noise_floor);
            w.field("chi2", d.chi2.statistic)
                .field("chi2_dof", d.chi2.dof)
                .field("chi2_p_value", d.chi2.p_value);
            w.field("verdict", drift_verdict_name(d.verdict)).key("movers").begin_array();
            for (const auto& m : d.movers)
                w.begin_object()
                    .field("expert", m.expert)
                    .field("share_baseline", m.share_baseline)
                    .field("share_window", m.share_window)
                    .field("diff", m.diff)
                    .end_object();
            w.end_array().end_object();
        }
        w.end_array().end_object();
    }
    w.end_array().end_object();
}

Table windows_csv(const DriftPlan& p) {
    Table t(
        {"layer", "start_utc", "tokens", "js_bits", "noise_js", "chi2_p", "verdict", "moved most"});
    for (const auto& l : p.layers)
        for (const auto& win : l.windows) {
            const DriftPoint& d = win.point;
            t.add({layer_name(l.layer), iso_utc(win.start), std::to_string(d.tokens),
                   fmt_num::csv(d.js_bits), fmt_num::csv(d.js_noise_floor),
                   fmt_num::csv(d.chi2.p_value), std::string(drift_verdict_name(d.verdict)),
                   movers_text(d, false)});
        }
    return t;
}

std::string text(const Query& x) {
    const DriftPlan p = plan(x);
    const std::string head =
        "Drift of tag '" + x.tag().name + "' against " + p.baseline + ", windows of " +
        std::to_string(p.window) + " s (drifted: chi-square p < " +
        fmt_num::sig(x.own<DriftArgs>().alpha, 2) +
        ", JS above its noise floor and >= " + fmt_num::sig(x.q.min_js, 2) + " bits)";
    std::string s = verdict_paragraph(drift_verdict(p)) + wrap("", head, 100, "");
    Table verdicts({"layer", "baseline_tokens", "windows", "drifted", "verdict (latest window)"});
    for (const auto& l : p.layers) {
        size_t drifted = 0;
        for (const auto& w : l.windows)
            drifted += w.point.verdict == DriftVerdict::drifted;
        verdicts.add({layer_name(l.layer), fmt_num::integer(l.baseline_tokens),
                      std::to_string(l.windows.size()), std::to_string(drifted),
                      std::string(drift_verdict_name(l.verdict()))});
    }
    s += verdicts.render() + "\nWindows\n";
    // A table per layer, so that no row repeats the layer: within 100 columns.
    for (const auto& l : p.layers) {
        Table t(
            {"start_utc", "tokens", "js_bits", "noise_js", "chi2_p", "verdict", "moved most (pp)"});
        for (const auto& win : l.windows) {
            const DriftPoint& d = win.point;
            t.add({iso_utc(win.start), fmt_num::integer(d.tokens), fmt_num::fixed(d.js_bits, 4),
                   fmt_num::fixed(d.js_noise_floor, 4), fmt_num::sig(d.chi2.p_value, 2),
                   std::string(drift_verdict_name(d.verdict)), movers_text(d, true)});
        }
        s += "  " + (l.layer < 0 ? std::string("all layers") : "layer " + layer_name(l.layer)) +
             "\n" + t.render("  ");
    }
    return s;
}
}  // namespace

namespace {
constexpr FailMetric kDriftFailOn[] = {
    {"js", "JS divergence of a window's expert shares from the baseline's (bits)"},
    {"p", "chi-square p-value of a window against the baseline"},
};

std::vector<FailReading> drift_readings(const Query& x) {
    std::vector<FailReading> out;
    for (const auto& l : plan(x).layers)
        for (const auto& win : l.windows) {
            const std::string where = "window " + iso_utc(win.start);
            out.push_back({l.layer, "js", win.point.js_bits, where});
            out.push_back({l.layer, "p", win.point.chi2.p_value, where});
        }
    return out;
}

}  // namespace

extern const CommandSpec kDriftCommand = {
    "drift",
    "Has routing drifted from a baseline? JS, chi-square p per window",
    [](CLI::App& app, CommandArgs& a) {
        auto& d = a.make_own<DriftArgs>();
        flag::query(app, a);
        app.add_option("--baseline", d.baseline, "The baseline: this tag's totals");
        app.add_option("--baseline-window", d.baseline_window,
                       "The baseline: --tag's buckets in T0..T1 (times as --since)");
        app.add_option("--window", d.window, "Width of the compared windows (90s, 10m, 1h)")
            ->capture_default_str();
        app.add_option("--alpha", d.alpha, "Chi-square p-value below which a window drifted")
            ->capture_default_str();
        flag::layer(app, a, "Only this layer");
        flag::top(app, a, 3, "Experts that moved most, per window");
        flag::min_js(app, a);
        flag::fail_on(app, a, kDriftFailOn);
    },
    kNeedsTimeline | kNeedsLayer | kWarnsQuality,
    write_json,
    [](const Query& x) { return windows_csv(plan(x)).csv(); },
    text,
    nullptr,
    kDriftFailOn,
    drift_readings,
};

}  // namespace moe
