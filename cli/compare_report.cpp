// `moescope compare --tag A --vs B`: how two prompt classes route differently.
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "analytics/tag_compare.hpp"
#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/deep_report.hpp"
#include "cli/verdict.hpp"
#include "decisions/significance.hpp"

namespace moe {

namespace {
std::vector<LayerComparison> comparisons(const Aggregates& agg, const TagStats& a,
                                         const TagStats& b, const QueryOptions& q) {
    auto all = compare_tags(a, b, agg.num_experts());
    if (q.layer) std::erase_if(all, [&](const LayerComparison& c) { return c.layer != *q.layer; });
    for (auto& c : all)
        if (c.experts.size() > q.top) c.experts.resize(q.top);
    return all;
}

// A tag's tokens as its busiest layer saw them (all layers combined counts a token per layer).
uint64_t busiest_layer_tokens(const TagStats& t) {
    uint64_t n = 0;
    for (int32_t l : t.layer_ids())
        n = std::max(n, t.layer(l)->tokens);
    return n;
}

const LayerStats& stats_of(const TagStats& t, int32_t layer) {
    return layer < 0 ? t.global : *t.layer(layer);  // compare_tags lists layers both have
}

Judged judge(const TagStats& a, const TagStats& b, LayerComparison c, const QueryOptions& q) {
    const LayerStats &la = stats_of(a, c.layer), &lb = stats_of(b, c.layer);
    Judged j;
    j.tokens_known_a = la.tokens_known();
    j.tokens_known_b = lb.tokens_known();
    if (!la.has_counts() && !lb.has_counts())  // sampled records on both sides
        j.sig = compare_counts(la.hits, la.top1, lb.hits, lb.top1);
    // All layers combined counts a token once per layer: its tokens are the busiest layer's.
    const uint64_t ta = c.layer < 0 ? busiest_layer_tokens(a) : c.tokens_a,
                   tb = c.layer < 0 ? busiest_layer_tokens(b) : c.tokens_b;
    // A side of sampled records with too few tokens: no verdict, whatever the other side is.
    j.too_few = (!la.has_counts() && ta < kMinTokensToJudge) ||
                (!lb.has_counts() && tb < kMinTokensToJudge);
    j.differs = !j.too_few &&
                differs(c.js_divergence_bits, j.sig ? &*j.sig : nullptr, kDefaultAlpha, q.min_js);
    j.c = std::move(c);
    return j;
}

Interval ci_at(const std::vector<Interval>& v, int32_t e) {
    return static_cast<size_t>(e) < v.size() ? v[static_cast<size_t>(e)] : Interval{NAN, NAN};
}

// "-" when undefined; tiny p-values keep their exponent instead of reading "0.0000".
std::string p_value_text(double p) {
    return std::isnan(p) ? "-" : p < 1e-4 ? fmt_num::sig(p, 2) : fmt_num::fixed(p, 4);
}

std::string ci_text(Interval i) {
    return fmt_num::percent(i.low) + "-" + fmt_num::percent(i.high);
}

// Records of `all` not in `x`: per layer hits, top-1 counts, tokens and engine totals of
// all minus those of x (the only fields a comparison reads).
LayerStats minus(const LayerStats& all, const LayerStats* x) {
    LayerStats r;
    r.tokens = all.tokens - (x ? x->tokens : 0);
    r.counted = all.counted - (x ? x->counted : 0);
    r.top_k = all.top_k;
    r.hits = all.hits;
    r.top1 = all.top1;
    if (x) {
        for (size_t e = 0; e < std::min(r.hits.size(), x->hits.size()); ++e)
            r.hits[e] -= x->hits[e];
        for (size_t e = 0; e < std::min(r.top1.size(), x->top1.size()); ++e)
            r.top1[e] -= x->top1[e];
    }
    return r;
}

std::unique_ptr<TagStats> rest_of(const TagStats& all, const TagStats& x) {
    auto rest = std::make_unique<TagStats>();
    rest->name = std::string(kRestName);
    rest->layers.resize(all.layers.size());
    for (int32_t l : all.layer_ids())
        rest->layers[static_cast<size_t>(l)] =
            std::make_unique<LayerStats>(minus(*all.layer(l), x.layer(l)));
    rest->global = minus(all.global, &x.global);
    return rest;
}

// The two tags whose routing differs most over all layers combined, among the tags with
// enough tokens to judge (all of them when fewer than two have).
ComparePair most_different(const Query& x) {
    std::vector<const TagStats*> tags, small;
    for (TagId i = 0; i < x.agg.tag_count(); ++i) {
        const TagStats& t = x.agg.tag(i);
        if (i == kAllTag || t.global.tokens == 0) continue;
        (t.global.tokens_known() && busiest_layer_tokens(t) < kMinTokensToJudge ? small : tags)
            .push_back(&t);
    }
    if (tags.size() < 2) {
        tags.insert(tags.end(), small.begin(), small.end());
        small.clear();
    }
    if (tags.size() < 2) {
        std::string known;
        for (const TagStats* t : tags)
            known += " '" + t->name + "'";
        throw NoDataError("compare needs two tags with records; there " +
                          std::string(tags.size() == 1 ? "is one:" : "are none") + known +
                          " (tag records with FILE=TAG or a \"tag\" field)");
    }
    double best = -1;
    ComparePair out{tags[0], tags[1], nullptr, small};
    for (size_t i = 0; i < tags.size(); ++i)
        for (size_t j = i + 1; j < tags.size(); ++j)
            for (const auto& c : compare_tags(*tags[i], *tags[j], x.agg.num_experts()))
                if (c.layer < 0 && c.js_divergence_bits > best)
                    best = c.js_divergence_bits, out.a = tags[i], out.b = tags[j];
    return out;
}
}  // namespace

std::vector<Judged> judged_layers(const Aggregates& agg, const ComparePair& p,
                                  const QueryOptions& q) {
    std::vector<Judged> out;
    for (auto& c : comparisons(agg, *p.a, *p.b, q))
        out.push_back(judge(*p.a, *p.b, std::move(c), q));
    return out;
}

ComparePair compare_with_rest(const Aggregates& agg, const TagStats& a) {
    auto rest = rest_of(agg.tag(kAllTag), a);
    if (rest->global.tokens == 0 && rest->global.selections() == 0) return {};
    const TagStats* b = rest.get();
    return {&a, b, std::move(rest)};
}

ComparePair compare_pair(const Query& x, bool required) {
    const TagStats& a = x.tag();
    if (!x.q.vs.empty()) {
        const TagStats& b = x.tag_named(x.q.vs);
        if (&a == &b)
            throw std::invalid_argument("--vs names the same tag as --tag ('" + a.name +
                                        "'); leave --vs out to compare with the rest");
        return {&a, &b, nullptr};
    }
    if (a.name == kAllTagName) {
        if (!required) return {};
        return most_different(x);
    }
    ComparePair p = compare_with_rest(x.agg, a);
    if (!p && required)
        throw NoDataError("every record is tagged '" + a.name +
                          "': no rest to compare with (tag other files, or --vs TAG)");
    return p;
}

void write_compare_json(JsonWriter& w, const Aggregates& agg, const ComparePair& p,
                        const QueryOptions& q) {
    write_compare_json(w, p, judged_layers(agg, p, q));
}

void write_compare_json(JsonWriter& w, const ComparePair& p, const std::vector<Judged>& judged) {
    const TagStats &a = *p.a, &b = *p.b;
    w.key("compare").begin_array();
    for (const Judged& j : judged) {
        const LayerComparison& c = j.c;
        w.begin_object();
        if (c.layer >= 0)
            w.field("layer", c.layer);
        else
            w.key("layer").null();  // all layers combined
        w.field("tag_a", std::string_view(a.name)).field("tag_b", std::string_view(b.name));
        w.field("b_is_rest", p.b_is_rest());
        const CountsSignificance none{
            {NAN, std::nullopt, NAN}, {NAN, std::nullopt, NAN}, NAN, {}, {}};
        const CountsSignificance& sig = j.sig ? *j.sig : none;
        const double unknown = NAN;
        w.field("tokens_a", j.tokens_known_a ? static_cast<double>(c.tokens_a) : unknown)
            .field("tokens_b", j.tokens_known_b ? static_cast<double>(c.tokens_b) : unknown);
        w.field("sampled", j.sig.has_value()).field("verdict", verdict_name(j));
        w.field("js_divergence_bits", c.js_divergence_bits)
            .field("js_noise_floor", sig.js_noise_floor);
        w.field("chi2", sig.selections.statistic)
            .field("chi2_dof", sig.selections.dof)
            .field("chi2_p_value", sig.selections.p_value);
        w.field("top1_chi2", sig.top1.statistic)
            .field("top1_chi2_dof", sig.top1.dof)
            .field("top1_chi2_p_value", sig.top1.p_value);
        w.key("experts").begin_array();
        for (const auto& e : c.experts) {
            w.begin_object()
                .field("expert", e.expert)
                .field("share_a", e.share_a)
                .field("share_b", e.share_b);
            for (const auto& [key, ci] : {std::pair{"share_a_ci", ci_at(sig.ci_a, e.expert)},
                                          std::pair{"share_b_ci", ci_at(sig.ci_b, e.expert)}}) {
                if (!j.sig) {  // intervals as if selections were draws: not given
                    w.key(key).null();
                    continue;
                }
                w.key(key).begin_array().value(ci.low).value(ci.high).end_array();
            }
            w.field("ratio", e.ratio).field("diff", e.diff).end_object();
        }
        w.end_array().end_object();
    }
    w.end_array();
}

const ExpertShareDiff* leans_on(const LayerComparison& c) {
    for (const auto& e : c.experts)
        if (e.diff > 0) return &e;
    return nullptr;
}

// How many layers differ (or route the same, or have too few tokens), and all layers
// combined: the line `compare` opens with.
VerdictLine compare_verdict(const ComparePair& p, const std::vector<Judged>& judged) {
    const std::string who = "'" + p.a->name + "' vs " +
                            (p.b_is_rest() ? std::string("the rest") : "'" + p.b->name + "'");
    size_t layers = 0, differ = 0, too_few = 0;
    const Judged* all = nullptr;
    for (const Judged& j : judged) {
        if (j.c.layer < 0) {
            all = &j;
            continue;
        }
        ++layers;
        differ += j.differs;
        too_few += j.too_few;
    }
    const bool differs = differ > 0 || (all && all->differs);
    const bool judged_any = differs || too_few < layers || (all && !all->too_few);
    std::string text = std::string(kVerdictPrefix) + who +
                       (differs      ? " differs"
                        : judged_any ? " routes the same"
                                     : " has too few tokens to judge (fewer than " +
                                           std::to_string(kMinTokensToJudge) + " on a side)");
    if (layers) {
        text += " in " + layers_count(differs      ? differ
                                      : judged_any ? layers - too_few
                                                   : layers,
                                      layers);
        if (judged_any && too_few) text += " (" + std::to_string(too_few) + " with too few tokens)";
    }
    if (all)
        text += std::string(layers ? "; " : " ") +
                "all layers: " + std::string(verdict_name(*all)) + " (JS " +
                fmt_num::fixed(all->c.js_divergence_bits, 4) + " bits)";
    return {differs ? "differs" : judged_any ? "same" : "too_few_tokens", text};
}

namespace {
// Tags --tag all left out of the pick, one line (empty when none).
std::string too_small_text(const ComparePair& p) {
    if (p.too_small.empty()) return "";
    std::string names;
    for (const TagStats* t : p.too_small)
        names += (names.empty() ? "'" : ", '") + t->name + "' (" +
                 fmt_num::integer(busiest_layer_tokens(*t)) + ")";
    return wrap("",
                "left out of the pick, fewer than " + std::to_string(kMinTokensToJudge) +
                    " tokens: " + names,
                100, "");
}
}  // namespace

std::string compare_text(const Aggregates& agg, const ComparePair& p, const QueryOptions& q) {
    const TagStats &a = *p.a, &b = *p.b;
    const std::vector<Judged> judged = judged_layers(agg, p, q);
    if (judged.empty())
        return std::string(kVerdictPrefix) + "nothing to compare: tags '" + a.name + "' and '" +
               b.name + "' share no layer with records.\n";
    const std::string head =
        "Tag '" + a.name + "' vs " +
        (p.b_is_rest() ? "the rest (records not tagged '" + a.name + "')" : "'" + b.name + "'") +
        ": Jensen-Shannon divergence of the expert shares (bits; 0 = same routing, 1 "
        "= disjoint)";
    std::string s = verdict_paragraph(compare_verdict(p, judged)) + too_small_text(p) +
                    wrap("", head, 100, "") + "\n";
    Table summary({"layer", "tokens_a", "tokens_b", "js_bits", "noise_js", "chi2_p", "top1_p",
                   "verdict", "leans on (a vs b)"});
    bool any_totals = false;
    for (const Judged& j : judged) {
        const LayerComparison& c = j.c;
        any_totals |= !j.sig;
        const auto cell = [&](auto f) { return j.sig ? f(*j.sig) : std::string("-"); };
        const auto tokens = [&](uint64_t n, bool known) {
            return known ? fmt_num::integer(n) : std::string("-");
        };
        std::string lean;
        if (const ExpertShareDiff* e = leans_on(c))  // starts with a word: left-aligned
            lean = "E" + std::to_string(e->expert) + " " + fmt_num::percent(e->share_a) + " vs " +
                   fmt_num::percent(e->share_b);
        summary.add(
            {c.layer < 0 ? "all" : std::to_string(c.layer), tokens(c.tokens_a, j.tokens_known_a),
             tokens(c.tokens_b, j.tokens_known_b), fmt_num::fixed(c.js_divergence_bits, 4),
             cell([](const CountsSignificance& g) { return fmt_num::fixed(g.js_noise_floor, 4); }),
             cell([](const CountsSignificance& g) { return p_value_text(g.selections.p_value); }),
             cell([](const CountsSignificance& g) { return p_value_text(g.top1.p_value); }),
             std::string(verdict_name(j)), lean.empty() ? "-" : lean});
    }
    s += summary.render();
    s += "noise_js: the JS divergence two samples of these sizes from one distribution show "
         "(resampled);\nchi2_p: Pearson chi-square p-value on selections (approximate: the k "
         "selections of a\ntoken are not independent); top1_p: the same test on each token's "
         "first-ranked expert.\n";
    s += wrap("",
              "verdict: differs when js_bits >= " + fmt_num::sig(q.min_js, 3) +
                  " (--min-js) and, for records, chi2_p < 0.01 and js_bits > noise_js; "
                  "too_few_tokens below " +
                  std::to_string(kMinTokensToJudge) + " tokens on a side.",
              100, "");
    if (any_totals)
        s += wrap("",
                  "Engine totals (count-only): their selections are not independent draws, so "
                  "no p-value, noise floor or interval is given; the verdict rests on the effect "
                  "size (docs/FIGURES.md \"Count-only data\").",
                  100, "");
    for (const Judged& j : judged) {
        const LayerComparison& c = j.c;
        const auto& sig = j.sig;
        s += "\n" +
             (c.layer < 0 ? std::string("All layers combined")
                          : "Layer " + std::to_string(c.layer)) +
             ": experts whose share differs most\n";
        Table t =
            sig ? Table({"expert", "share_a", "95% CI a", "share_b", "95% CI b", "ratio", "diff"})
                : Table({"expert", "share_a", "share_b", "ratio", "diff"});
        for (const auto& e : c.experts) {
            std::vector<std::string> row{std::to_string(e.expert), fmt_num::percent(e.share_a)};
            if (sig) row.push_back(ci_text(ci_at(sig->ci_a, e.expert)));
            row.push_back(fmt_num::percent(e.share_b));
            if (sig) row.push_back(ci_text(ci_at(sig->ci_b, e.expert)));
            row.push_back(fmt_num::fixed(e.ratio, 3));  // aligned decimals
            row.push_back(fmt_num::fixed(e.diff * 100, 2) + "pp");
            t.add(row);
        }
        s += t.render("  ");
    }
    return s;
}

std::string compare_csv(const Aggregates& agg, const ComparePair& p, const QueryOptions& q) {
    const TagStats &a = *p.a, &b = *p.b;
    Table t({"layer", "tag_a", "tag_b", "verdict", "js_divergence_bits", "js_noise_floor", "chi2",
             "chi2_dof", "chi2_p_value", "top1_chi2_p_value", "expert", "share_a", "share_a_ci_low",
             "share_a_ci_high", "share_b", "share_b_ci_low", "share_b_ci_high", "ratio", "diff"});
    const CountsSignificance none{{NAN, std::nullopt, NAN}, {NAN, std::nullopt, NAN}, NAN, {}, {}};
    for (const Judged& j : judged_layers(agg, p, q)) {
        const LayerComparison& c = j.c;
        const CountsSignificance& sig = j.sig ? *j.sig : none;
        for (const auto& e : c.experts) {
            const Interval ca = ci_at(sig.ci_a, e.expert), cb = ci_at(sig.ci_b, e.expert);
            t.add({c.layer < 0 ? "all" : std::to_string(c.layer), a.name, b.name,
                   std::string(verdict_name(j)), fmt_num::csv(c.js_divergence_bits),
                   fmt_num::csv(sig.js_noise_floor), fmt_num::csv(sig.selections.statistic),
                   fmt_num::csv(sig.selections.dof), fmt_num::csv(sig.selections.p_value),
                   fmt_num::csv(sig.top1.p_value), std::to_string(e.expert),
                   fmt_num::csv(e.share_a), fmt_num::csv(ca.low), fmt_num::csv(ca.high),
                   fmt_num::csv(e.share_b), fmt_num::csv(cb.low), fmt_num::csv(cb.high),
                   fmt_num::csv(e.ratio), fmt_num::csv(e.diff)});
        }
    }
    return t.csv();
}

namespace {
constexpr FailMetric kCompareFailOn[] = {
    {"js", "JS divergence of a layer's expert shares between the two (bits)"},
    {"p", "chi-square p-value of a layer's selections (records only)"},
};

std::vector<FailReading> compare_readings(const Query& x) {
    std::vector<FailReading> out;
    for (const Judged& j : judged_layers(x.agg, compare_pair(x, true), x.q)) {
        // A side with too few tokens has no verdict: its readings are undefined (named, not
        // gated; a gate on noise would fail at random). Engine totals have no p-value.
        out.push_back({j.c.layer, "js", j.too_few ? NAN : j.c.js_divergence_bits, ""});
        out.push_back({j.c.layer, "p", j.sig && !j.too_few ? j.sig->selections.p_value : NAN, ""});
    }
    return out;
}
}  // namespace

extern const CommandSpec kCompareCommand = {
    "compare",
    "How --tag routes differently from --vs: JS divergence, experts",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::vs(app, a, "The tag to compare with (default: the rest, records not tagged --tag)");
        flag::layer(app, a, "Only this layer");
        flag::top(app, a, 10, "Experts listed per layer");
        flag::min_js(app, a);
        flag::fail_on(app, a, kCompareFailOn);
    },
    kNeedsLayer | kWarnsQuality,
    [](JsonWriter& w, const Query& x) {
        const auto p = compare_pair(x, true);
        const std::vector<Judged> judged = judged_layers(x.agg, p, x.q);  // resampled once
        write_compare_json(w, p, judged);
        w.key("left_out_tags").begin_array();
        for (const TagStats* t : p.too_small)
            w.begin_object()
                .field("tag", std::string_view(t->name))
                .field("tokens", busiest_layer_tokens(*t))
                .end_object();
        w.end_array();
        write_verdict_json(w, compare_verdict(p, judged));
    },
    [](const Query& x) {
        const auto p = compare_pair(x, true);
        return compare_csv(x.agg, p, x.q);
    },
    [](const Query& x) {
        const auto p = compare_pair(x, true);
        return compare_text(x.agg, p, x.q);
    },
    nullptr,
    kCompareFailOn,
    compare_readings,
};

}  // namespace moe
