// `moescope compare --tag A --vs B`: how two prompt classes route differently.
#include <algorithm>
#include <memory>
#include <stdexcept>

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

// Records of `all` not in `x`: per layer hits and tokens of all minus those of x (the only
// fields a comparison reads).
LayerStats minus(const LayerStats& all, const LayerStats* x) {
    LayerStats r;
    r.tokens = all.tokens - (x ? x->tokens : 0);
    r.hits = all.hits;
    if (x)
        for (size_t e = 0; e < std::min(r.hits.size(), x->hits.size()); ++e)
            r.hits[e] -= x->hits[e];
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

// The two tags whose routing differs most over all layers combined.
ComparePair most_different(const Query& x) {
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
    ComparePair out{tags[0], tags[1], nullptr};
    for (size_t i = 0; i < tags.size(); ++i)
        for (size_t j = i + 1; j < tags.size(); ++j)
            for (const auto& c : compare_tags(*tags[i], *tags[j], x.agg.num_experts()))
                if (c.layer < 0 && c.js_divergence_bits > best)
                    best = c.js_divergence_bits, out.a = tags[i], out.b = tags[j];
    return out;
}
}  // namespace

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
    auto rest = rest_of(x.agg.tag(kAllTag), a);
    if (rest->global.tokens == 0) {
        if (!required) return {};
        throw NoDataError("every record is tagged '" + a.name +
                          "': no rest to compare with (tag other files, or --vs TAG)");
    }
    const TagStats* b = rest.get();
    return {&a, b, std::move(rest)};
}

void write_compare_json(JsonWriter& w, const Aggregates& agg, const ComparePair& p,
                        const QueryOptions& q) {
    const TagStats &a = *p.a, &b = *p.b;
    w.key("compare").begin_array();
    for (const auto& c : comparisons(agg, a, b, q)) {
        w.begin_object();
        if (c.layer >= 0)
            w.field("layer", c.layer);
        else
            w.key("layer").null();  // all layers combined
        w.field("tag_a", std::string_view(a.name)).field("tag_b", std::string_view(b.name));
        w.field("b_is_rest", p.b_is_rest());
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

std::string compare_text(const Aggregates& agg, const ComparePair& p, const QueryOptions& q) {
    const TagStats &a = *p.a, &b = *p.b;
    const auto cs = comparisons(agg, a, b, q);
    if (cs.empty())
        return "Tags '" + a.name + "' and '" + b.name + "' share no layer with records.\n";
    std::string s =
        "Tag '" + a.name + "' vs " +
        (p.b_is_rest() ? "the rest (records not tagged '" + a.name + "')" : "'" + b.name + "'") +
        ": Jensen-Shannon divergence of the expert shares (bits; 0 = same routing, 1 "
        "= disjoint)";
    s = wrap("", s, 100, "") + "\n";
    Table summary({"layer", "tokens_a", "tokens_b", "js_bits", "leans on (share a vs b)"});
    for (const auto& c : cs) {
        std::string lean;
        for (const auto& e : c.experts) {
            if (!(e.diff > 0)) continue;
            // Starts with a word, so the cell is left-aligned under its header.
            lean = "expert " + std::to_string(e.expert) + ": " + fmt_num::percent(e.share_a) +
                   " vs " + fmt_num::percent(e.share_b);
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
                   fmt_num::percent(e.share_b), fmt_num::fixed(e.ratio, 3),  // aligned decimals
                   fmt_num::fixed(e.diff * 100, 2) + "pp"});
        s += t.render("  ");
    }
    return s;
}

std::string compare_csv(const Aggregates& agg, const ComparePair& p, const QueryOptions& q) {
    const TagStats &a = *p.a, &b = *p.b;
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
        flag::vs(app, a, "The tag to compare with (default: the rest, records not tagged --tag)");
        flag::layer(app, a, "Only this layer");
        flag::top(app, a, 10, "Experts listed per layer");
    },
    kNeedsLayer,
    [](JsonWriter& w, const Query& x) {
        const auto p = compare_pair(x, true);
        write_compare_json(w, x.agg, p, x.q);
    },
    [](const Query& x) {
        const auto p = compare_pair(x, true);
        return compare_csv(x.agg, p, x.q);
    },
    [](const Query& x) {
        const auto p = compare_pair(x, true);
        return compare_text(x.agg, p, x.q);
    },
};

}  // namespace moe
