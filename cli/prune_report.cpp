// `moescope prune`: per layer the keep-list and drop-list of a rule (or of a keep-list
// file, --check), and what dropping would have cost each tag on the recorded tokens
// (docs/FIGURES.md "Pruning").
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/keep_list_file.hpp"
#include "cli/table.hpp"
#include "decisions/prune.hpp"

namespace moe {

namespace {

// The prune command's own options: exactly one rule, or --check.
struct PruneArgs final : CommandOptions {
    double keep_coverage = NAN;
    int64_t keep = -1;
    double drop_below = NAN;
    std::string by = "hits";
    std::vector<std::string> tags;  // --tag T...
    std::string export_path;        // --export
    std::string check_path;         // --check
    bool strict = false;            // --strict: a mismatched keep-list is an error
};

struct PruneView {
    std::string rule;  // "keep_coverage", "keep", "drop_below" or "check"
    double value = NAN;
    std::string by;
    std::vector<std::string> tags;  // the tags the list was planned for
    KeepList keep;
    std::string list_model;  // --check: the model the keep-list file names ("" if none)
    // Token fractions: "tokens" (the recorded sequence), "cooc" (exact from the totals, k <= 2)
    // or "none".
    std::string token_source;
    std::vector<const TagStats*> all_tags;              // "all" first
    std::vector<std::map<int32_t, DropCost>> by_layer;  // per tag of all_tags
    std::vector<DropCost> overall;                      // per tag of all_tags
};

PruneSpec spec_of(const PruneArgs& d, PruneView& v) {
    PruneSpec s;
    s.by = d.by == "mass" ? Weighting::mass : Weighting::hits;
    const int rules = !std::isnan(d.keep_coverage) + (d.keep >= 0) + !std::isnan(d.drop_below) +
                      !d.check_path.empty();
    if (rules != 1)
        throw std::invalid_argument(
            "give exactly one of --keep-coverage P, --keep N, --drop-below SHARE, --check FILE");
    if (!std::isnan(d.keep_coverage)) {
        if (!(d.keep_coverage > 0 && d.keep_coverage <= 1))
            throw std::invalid_argument("--keep-coverage must be in (0, 1]");
        s.rule = PruneRule::keep_coverage;
        s.value = d.keep_coverage;
        v.rule = "keep_coverage";
    } else if (d.keep >= 0) {
        s.rule = PruneRule::keep_count;
        s.value = static_cast<double>(d.keep);
        v.rule = "keep";
    } else if (!std::isnan(d.drop_below)) {
        if (!(d.drop_below >= 0 && d.drop_below <= 1))
            throw std::invalid_argument("--drop-below must be in [0, 1]");
        s.rule = PruneRule::drop_below;
        s.value = d.drop_below;
        v.rule = "drop_below";
    } else {
        v.rule = "check";
    }
    v.value = v.rule == "check" ? NAN : s.value;
    return s;
}

PruneView build(const Query& x) {
    PruneView v;
    const auto& d = x.own<PruneArgs>();
    const PruneSpec spec = spec_of(d, v);
    v.by = d.by;
    const size_t E = x.agg.num_experts();
    if (v.rule == "check") {
        v.keep = read_keep_list(d.check_path, E, &v.list_model);
        v.by.clear();
    } else {
        std::vector<TagId> ids;
        v.tags = d.tags.empty() ? std::vector<std::string>{std::string(kAllTagName)} : d.tags;
        for (const auto& name : v.tags)
            ids.push_back(*x.agg.find_tag(x.tag_named(name).name));
        v.keep = plan_keep_list(x.agg, ids, spec);
    }
    if (x.agg.tag(kAllTag).layer_ids().empty()) throw NoDataError("no routing records");
    bool all_cooc = true;
    for (TagId t = 0; t < x.agg.tag_count(); ++t) {
        const TagStats& tag = x.agg.tag(t);
        v.all_tags.push_back(&tag);
        std::map<int32_t, std::pair<uint64_t, uint64_t>> seq_counts;
        if (x.sequence) seq_counts = token_drops(*x.sequence, t, v.keep);
        auto& layers = v.by_layer.emplace_back();
        DropCost total;
        for (int32_t id : tag.layer_ids()) {
            const auto it = v.keep.find(id);
            DropCost c =
                drop_cost(*tag.layer(id), it == v.keep.end() ? std::vector<bool>{} : it->second);
            if (x.sequence && !tag.layer(id)->has_counts()) {  // engine totals: no tokens
                const auto [any, all] = seq_counts[id];
                c.tokens_any = any;
                c.tokens_all = all;
            }
            all_cooc = all_cooc && c.tokens_any.has_value();
            total.add(c);
            layers[id] = c;
        }
        v.overall.push_back(total);
    }
    v.token_source = x.sequence ? "tokens" : all_cooc ? "cooc" : "none";
    return v;
}

void write_cost(JsonWriter& w, const DropCost& c) {
    w.key("tokens");
    if (c.tokens_known)
        w.value(c.tokens);
    else
        w.null();
    w.field("selections", c.selections);
    w.field("dropped_selection_share", c.selection_share())
        .field("dropped_mass_share", c.mass_share());
    w.key("tokens_any_dropped");
    if (auto s = c.any_share())
        w.value(*s);
    else
        w.null();
    w.key("tokens_all_dropped");
    if (auto s = c.all_share())
        w.value(*s);
    else
        w.null();
}

void write_ids(JsonWriter& w, std::string_view key, const std::vector<bool>& mask, bool kept) {
    w.key(key).begin_array();
    for (size_t e = 0; e < mask.size(); ++e)
        if (mask[e] == kept) w.value(static_cast<uint64_t>(e));
    w.end_array();
}

void write_tags(JsonWriter& w, const PruneView& v,
                const std::function<const DropCost*(size_t)>& f) {
    w.key("tags").begin_array();
    for (size_t t = 0; t < v.all_tags.size(); ++t)
        if (const DropCost* c = f(t)) {
            w.begin_object().field("tag", std::string_view(v.all_tags[t]->name));
            write_cost(w, *c);
            w.end_object();
        }
    w.end_array();
}

void prune_json(JsonWriter& w, const Query& x) {
    const PruneView v = build(x);
    w.key("model");
    if (x.agg.model_id().empty())
        w.null();
    else
        w.value(std::string_view(x.agg.model_id()));
    w.field("rule", std::string_view(v.rule)).field("value", v.value);
    w.key("by");
    if (v.by.empty())
        w.null();
    else
        w.value(std::string_view(v.by));
    w.key("planned_for").begin_array();
    for (const auto& t : v.tags)
        w.value(std::string_view(t));
    w.end_array();
    w.field("num_experts", x.agg.num_experts())
        .field("token_fractions_from", std::string_view(v.token_source));
    w.key("layers").begin_array();
    for (const auto& [id, c] : v.by_layer.front()) {
        w.begin_object().field("layer", id);
        const auto it = v.keep.find(id);
        const std::vector<bool> mask =
            it != v.keep.end() ? it->second : std::vector<bool>(x.agg.num_experts(), true);
        write_ids(w, "keep", mask, true);
        write_ids(w, "drop", mask, false);
        write_cost(w, c);
        write_tags(w, v, [&v, id = id](size_t t) -> const DropCost* {
            const auto f = v.by_layer[t].find(id);
            return f == v.by_layer[t].end() ? nullptr : &f->second;
        });
        w.end_object();
    }
    w.end_array();
    w.key("overall").begin_object();
    write_cost(w, v.overall.front());
    write_tags(w, v, [&v](size_t t) { return &v.overall[t]; });
    w.end_object();
}

std::string pct(double f) {
    return std::isnan(f) ? "-" : fmt_num::percent(f);
}
std::string pct(std::optional<double> f) {
    return f ? fmt_num::percent(*f) : "-";
}

// Text: percentages and "-"; CSV: fractions and empty cells (docs/FIGURES.md "Precision and
// nulls"), so a spreadsheet reads numbers.
std::vector<std::string> cost_cells(const DropCost& c, bool csv) {
    if (csv) {
        const auto frac = [](std::optional<double> f) { return fmt_num::csv(f.value_or(NAN)); };
        return {c.tokens_known ? std::to_string(c.tokens) : "", fmt_num::csv(c.selection_share()),
                fmt_num::csv(c.mass_share()), frac(c.any_share()), frac(c.all_share())};
    }
    return {c.tokens_known ? fmt_num::integer(c.tokens) : "-", pct(c.selection_share()),
            pct(c.mass_share()), pct(c.any_share()), pct(c.all_share())};
}

size_t count(const KeepList& k, int32_t layer, bool kept, size_t E) {
    const auto it = k.find(layer);
    if (it == k.end()) return kept ? E : 0;
    size_t n = 0;
    for (bool b : it->second)
        n += b == kept;
    return n;
}

// The cost columns: CSV's names, or short ones that keep the text within 100 columns (it
// was 120; the text explains them once).
std::vector<std::string> cost_heads(bool csv) {
    if (csv)
        return {"tokens", "dropped_selection_share", "dropped_mass_share", "tokens_any_dropped",
                "tokens_all_dropped"};
    return {"tokens", "sel_dropped", "mass_dropped", "tok_any_dropped", "tok_all_dropped"};
}
constexpr const char* kCostLegend =
    "sel/mass_dropped: share of the selections / routing-weight mass dropped; "
    "tok_any/all_dropped: share of tokens with one / all of their top-k dropped";

// CSV: every tag's rows, long column names; text: --tag's rows.
Table prune_table(const Query& x, const PruneView& v, bool csv) {
    std::vector<std::string> head = {"layer", "tag", "kept", "dropped"};
    for (auto& h : cost_heads(csv))
        head.push_back(h);
    Table t(head);
    const size_t E = x.agg.num_experts();
    for (size_t i = 0; i < (csv ? v.all_tags.size() : 1); ++i) {
        for (const auto& [id, c] : v.by_layer[i]) {
            std::vector<std::string> row = {std::to_string(id), v.all_tags[i]->name,
                                            std::to_string(count(v.keep, id, true, E)),
                                            std::to_string(count(v.keep, id, false, E))};
            for (auto& s : cost_cells(c, csv))
                row.push_back(s);
            t.add(row);
        }
        std::vector<std::string> row = {"all", v.all_tags[i]->name, "", ""};
        for (auto& s : cost_cells(v.overall[i], csv))
            row.push_back(s);
        t.add(row);
    }
    return t;
}

std::string prune_csv(const Query& x) {
    return prune_table(x, build(x), true).csv();
}

std::string prune_text(const Query& x) {
    const PruneView v = build(x);
    std::string s = "Keep-list: " + v.rule;
    if (v.rule == "check")
        s += " " + x.own<PruneArgs>().check_path;
    else {
        s += " " + fmt_num::sig(v.value, 6) + " by " + v.by + ", planned for tag";
        for (const auto& t : v.tags)
            s += " " + t;
    }
    // Engine totals count no tokens, whatever the source (all_tags.front() is tag all).
    s += " (E = " + std::to_string(x.agg.num_experts()) + "); token fractions " +
         (v.all_tags.front()->global.count_only() ? "unknown (engine totals count no tokens)"
          : v.token_source == "tokens"            ? "from the recorded tokens"
          : v.token_source == "cooc"              ? "exact from co-occurrence counts (top-2)"
                                                  : "need FILE arguments");
    s = wrap("", s, 100, "  ") + prune_table(x, v, false).render("  ") +
        wrap("  ", kCostLegend, 100, "  ");
    s += "\nWhich tag pays (all layers pooled; keep/drop lists: --json or --export FILE)\n";
    std::vector<std::string> head = {"tag"};
    for (auto& h : cost_heads(false))
        head.push_back(h);
    Table pays(head);
    for (size_t i = 0; i < v.all_tags.size(); ++i) {
        std::vector<std::string> row = {v.all_tags[i]->name};
        for (auto& c : cost_cells(v.overall[i], false))
            row.push_back(c);
        pays.add(row);
    }
    return s + pays.render("  ");
}

int prune_action(const Query& x);

// What makes a --check keep-list the wrong one for these records: planned for another model,
// or naming layers without records here (its costs would say nothing about those layers).
std::vector<std::string> keep_list_mismatches(const Query& x, const PruneView& v) {
    std::vector<std::string> out;
    const std::string& file = x.own<PruneArgs>().check_path;
    if (!v.list_model.empty() && !x.agg.model_id().empty() && v.list_model != x.agg.model_id())
        out.push_back(file + " was planned for model '" + v.list_model +
                      "'; these records are of model '" + x.agg.model_id() + "'");
    const std::vector<int32_t> have = x.agg.tag(kAllTag).layer_ids();
    std::string missing;
    size_t n = 0;
    for (const auto& [id, mask] : v.keep)
        if (!std::binary_search(have.begin(), have.end(), id))
            missing += (n++ ? ", " : "") + std::to_string(id);
    if (n)
        out.push_back(file + " names " + (n == 1 ? "layer " : "layers ") + missing + " without " +
                      "records here" +
                      (have.empty() ? std::string()
                                    : " (records of layers " + std::to_string(have.front()) +
                                          " to " + std::to_string(have.back()) + ")"));
    return out;
}

}  // namespace

extern const CommandSpec kPruneCommand = {
    "prune",
    "Keep/drop lists per layer and what dropping costs each tag on the recorded tokens",
    [](CLI::App& app, CommandArgs& a) {
        flag::output(app, a);
        flag::window(app, a);
        flag::files(app, a);
        auto& d = a.make_own<PruneArgs>();
        auto* cov = app.add_option("--keep-coverage", d.keep_coverage,
                                   "Keep the fewest experts covering this share (0..1]");
        auto* keep = app.add_option("--keep", d.keep, "Keep the N heaviest experts per layer")
                         ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
        auto* below = app.add_option("--drop-below", d.drop_below,
                                     "Drop experts whose share is below SHARE (0..1)");
        auto* check = app.add_option("--check", d.check_path,
                                     "Cost of the keep-list in FILE (JSON or .csv, as --export "
                                     "writes it)");
        app.add_flag("--strict", d.strict,
                     "With --check: a keep-list planned for another model, or naming layers "
                     "without records, is an error (exit 2) instead of a warning")
            ->needs(check);
        cov->excludes(keep, below, check);
        keep->excludes(below, check);
        below->excludes(check);
        flag::load_basis(app, d.by, "Rank experts by selections or by gate-weight mass");
        app.add_option("--tag", d.tags,
                       "Plan for these tags, repeated or comma-separated (the keep-list is the "
                       "union over them; default all)")
            ->delimiter(',');
        app.add_option("--export", d.export_path,
                       "Write the keep-lists to FILE (JSON; CSV when FILE ends in .csv)");
    },
    kNeedsTotals | kNeedsSequence | kWarnsQuality,
    prune_json,
    prune_csv,
    prune_text,
    prune_action,
};

namespace {
int prune_action(const Query& x) {
    const PruneView v = build(x);
    const auto& d = x.own<PruneArgs>();
    if (v.rule == "check") {
        const std::vector<std::string> why = keep_list_mismatches(x, v);
        std::string all;
        for (const std::string& w : why)
            all += (all.empty() ? "" : "; ") + w;
        if (!why.empty() && d.strict) throw std::invalid_argument(all + " (--strict)");
        for (const std::string& w : why)
            std::fprintf(stderr, "moescope: warning: %s\n", printable(w).c_str());
    }
    if (!d.export_path.empty()) write_keep_list(d.export_path, v.keep, x.agg.model_id());
    std::fputs(render(kPruneCommand, x).c_str(), stdout);
    return kExitOk;
}
}  // namespace

}  // namespace moe
