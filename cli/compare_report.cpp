// `moescope compare --tag A --vs B`: how two prompt classes route differently.
#include <algorithm>

#include "analytics/tag_compare.hpp"
#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/deep_report.hpp"

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

// --tag and --vs, except when they name the same tag (the default: all vs all, which would
// compare a tag with itself): then the two tags whose routing differs most over all layers.
std::pair<const TagStats*, const TagStats*> pair_of(const Query& x) {
    const TagStats& a = x.tag();
    const TagStats& b = x.tag_named(x.q.vs);
    if (&a != &b) return {&a, &b};
    std::vector<const TagStats*> tags;
    for (TagId i = 0; i < x.agg.tag_count(); ++i)
        if (i != kAllTag && x.agg.tag(i).global.tokens > 0) tags.push_back(&x.agg.tag(i));
    if (tags.size() < 2) {
        std::string known;
        for (const TagStats* t : tags)
            known += " '" + t->name + "'";
        throw NoDataError("compare needs two tags with records; there " +
                          std::string(tags.size() == 1 ? "is one:" : "are none") + known +
                          " (tag records with FILE=TAG or a \"tag\" field)");
    }
    double best = -1;
    std::pair<const TagStats*, const TagStats*> out{tags[0], tags[1]};
    for (size_t i = 0; i < tags.size(); ++i)
        for (size_t j = i + 1; j < tags.size(); ++j)
            for (const auto& c : compare_tags(*tags[i], *tags[j], x.agg.num_experts()))
                if (c.layer < 0 && c.js_divergence_bits > best)
                    best = c.js_divergence_bits, out = {tags[i], tags[j]};
    return out;
}
}  // namespace

void write_compare_json(JsonWriter& w, const Aggregates& agg, const TagStats& a, const TagStats& b,
                        const QueryOptions& q) {
    w.key("compare").begin_array();
    for (const auto& c : comparisons(agg, a, b, q)) {
        w.begin_object();
        if (c.layer >= 0)
            w.field("layer", c.layer);
        else
            w.key("layer").null();  // all layers combined
        w.field("tag_a", std::string_view(a.name)).field("tag_b", std::string_view(b.name));
        w.field("tokens_a", c.tokens_a).field("tokens_b", c.tokens_b);
        w.field("js_divergence_bits", c.js_divergence_bits).key("experts").begin_array();
        for (const auto& e : c.experts) {
            w.begin_object()
                .field("expert", e.expert)
                .field("share_a", e.share_a)
                .field("share_b", e.share_b);
            w.field("ratio", e.ratio).field("diff", e.diff).end_object();
        }
        w.end_array().end_object();
    }
    w.end_array();
}

std::string compare_text(const Aggregates& agg, const TagStats& a, const TagStats& b,
                         const QueryOptions& q) {
    const auto cs = comparisons(agg, a, b, q);
    if (cs.empty())
        return "Tags '" + a.name + "' and '" + b.name + "' share no layer with records.\n";
    std::string s = "Tag '" + a.name + "' vs '" + b.name +
                    "': Jensen-Shannon divergence of the expert shares (bits; 0 = same routing, 1 "
                    "= disjoint)\n\n";
    Table summary({"layer", "tokens_a", "tokens_b", "js_bits", "leans_on (share a vs b)"});
    for (const auto& c : cs) {
        std::string lean;
        for (const auto& e : c.experts) {
            if (!(e.diff > 0)) continue;
            lean = std::to_string(e.expert) + " (" + fmt_num::percent(e.share_a) + " vs " +
                   fmt_num::percent(e.share_b) + ")";
            break;
        }
        summary.add({c.layer < 0 ? "all" : std::to_string(c.layer), fmt_num::integer(c.tokens_a),
                     fmt_num::integer(c.tokens_b), fmt_num::fixed(c.js_divergence_bits, 4),
                     lean.empty() ? "-" : lean});
    }
    s += summary.render();
    for (const auto& c : cs) {
        s += "\n" +
             (c.layer < 0 ? std::string("All layers combined")
                          : "Layer " + std::to_string(c.layer)) +
             ": experts whose share differs most\n";
        Table t({"expert", "share_a", "share_b", "ratio", "diff"});
        for (const auto& e : c.experts)
            t.add({std::to_string(e.expert), fmt_num::percent(e.share_a),
                   fmt_num::percent(e.share_b), fmt_num::sig(e.ratio, 4),
                   fmt_num::fixed(e.diff * 100, 2) + "pp"});
        s += t.render("  ");
    }
    return s;
}

std::string compare_csv(const Aggregates& agg, const TagStats& a, const TagStats& b,
                        const QueryOptions& q) {
    Table t({"layer", "tag_a", "tag_b", "js_divergence_bits", "expert", "share_a", "share_b",
             "ratio", "diff"});
    for (const auto& c : comparisons(agg, a, b, q))
        for (const auto& e : c.experts)
            t.add({c.layer < 0 ? "all" : std::to_string(c.layer), a.name, b.name,
                   fmt_num::csv(c.js_divergence_bits), std::to_string(e.expert),
                   fmt_num::csv(e.share_a), fmt_num::csv(e.share_b), fmt_num::csv(e.ratio),
                   fmt_num::csv(e.diff)});
    return t.csv();
}

extern const CommandSpec kCompareCommand = {
    "compare",
    "How --tag routes differently from --vs: JS divergence, experts",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::vs(app, a, "The tag to compare with");
        flag::layer(app, a, "Only this layer");
        flag::top(app, a, 10, "Experts listed per layer");
    },
    kNeedsLayer,
    [](JsonWriter& w, const Query& x) {
        const auto [a, b] = pair_of(x);
        write_compare_json(w, x.agg, *a, *b, x.q);
    },
    [](const Query& x) {
        const auto [a, b] = pair_of(x);
        return compare_csv(x.agg, *a, *b, x.q);
    },
    [](const Query& x) {
        const auto [a, b] = pair_of(x);
        return compare_text(x.agg, *a, *b, x.q);
    },
};

}  // namespace moe
