// `moescope coverage`: per layer and tag, how many experts carry 50 .. 99 % of the
// selections and of the gate-weight mass (docs/FIGURES.md "Coverage").
#include <array>
#include <string>

#include "cli/command.hpp"
#include "cli/table.hpp"
#include "decisions/coverage.hpp"

namespace moe {

namespace {

constexpr std::array<std::string_view, kCoverageLevels.size()> kLevelKeys = {"0.5", "0.8", "0.9",
                                                                             "0.95", "0.99"};

// --tag T: that tag; default "all": "all" and every tag, side by side.
std::vector<const TagStats*> tags_of(const Query& x) {
    if (x.q.tag != kAllTagName) return {&x.tag()};
    std::vector<const TagStats*> out;
    for (TagId i = 0; i < x.agg.tag_count(); ++i)
        out.push_back(&x.agg.tag(i));
    return out;
}

std::vector<LayerCoverage> coverages(const Query& x) {
    std::vector<int32_t> layers =
        x.q.layer ? std::vector<int32_t>{*x.q.layer} : x.agg.tag(kAllTag).layer_ids();
    std::vector<LayerCoverage> out;
    for (int32_t l : layers)
        for (const TagStats* t : tags_of(x))
            if (const LayerStats* s = t->layer(l); s && s->tokens > 0)
                out.push_back(layer_coverage(*t, l));
    return out;
}

void write_needed(JsonWriter& w, std::string_view key, const std::optional<CoverageSide>& s) {
    w.key(key);
    if (!s) {
        w.null();
        return;
    }
    w.begin_object();
    for (size_t i = 0; i < kLevelKeys.size(); ++i)
        w.field(kLevelKeys[i], static_cast<uint64_t>(s->needed[i]));
    w.end_object();
}

void write_side(JsonWriter& w, std::string_view order_key, std::string_view curve_key,
                const std::optional<CoverageSide>& s) {
    w.key(order_key);
    if (s) {
        w.begin_array();
        for (uint32_t e : s->order)
            w.value(e);
        w.end_array();
    } else {
        w.null();
    }
    w.key(curve_key);
    if (s) {
        w.begin_array();
        for (double c : s->curve)
            w.value(c);
        w.end_array();
    } else {
        w.null();
    }
}

void coverage_json(JsonWriter& w, const Query& x) {
    w.key("layers").begin_array();
    for (const auto& c : coverages(x)) {
        w.begin_object().field("layer", c.layer).field("tag", std::string_view(c.tag));
        w.field("tokens", c.tokens ? static_cast<double>(*c.tokens) : NAN)
            .field("selections", c.selections);
        const std::optional<CoverageSide> hits = c.hits;
        write_needed(w, "experts_for_coverage", hits);
        write_needed(w, "experts_for_mass_coverage", c.mass);
        write_side(w, "order", "curve", hits);
        write_side(w, "mass_order", "mass_curve", c.mass);
        w.end_object();
    }
    w.end_array();
}

// CSV headers are the JSON keys (hits_0.5 ...); the table's are short ("h50" ...) so that
// ten levels fit 100 columns, explained in the heading.
Table coverage_table(const Query& x, bool csv) {
    std::vector<std::string> h = {"layer", "tag", "tokens"};
    for (const char* side : {"hits_", "mass_"})
        for (auto k : kLevelKeys)
            h.push_back(csv ? side + std::string(k)
                            : side[0] + fmt_num::sig(std::stod(std::string(k)) * 100, 3));
    Table t(h);
    for (const auto& c : coverages(x)) {
        const std::string none = csv ? "" : "-";  // CSV: an empty cell (FIGURES.md)
        std::vector<std::string> row = {std::to_string(c.layer), c.tag,
                                        c.tokens ? std::to_string(*c.tokens) : none};
        for (size_t n : c.hits.needed)
            row.push_back(std::to_string(n));
        for (size_t i = 0; i < kLevelKeys.size(); ++i)
            row.push_back(c.mass ? std::to_string(c.mass->needed[i]) : none);
        t.add(row);
    }
    return t;
}

std::string coverage_text(const Query& x) {
    return wrap("",
                "Experts needed to cover P % of the selections (hP) and of the gate-weight "
                "mass (mP), per layer and tag (docs/FIGURES.md \"Coverage\"); E = " +
                    std::to_string(x.agg.num_experts()),
                100, "") +
           coverage_table(x, false).render("  ");
}

}  // namespace

extern const CommandSpec kCoverageCommand = {
    "coverage",
    "Experts needed to cover 50..99 % of the selections and of the weight mass",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Layer (default: every layer)");
    },
    kNeedsTotals | kNeedsLayer | kWarnsQuality,
    coverage_json,
    [](const Query& x) { return coverage_table(x, true).csv(); },
    coverage_text,
};

}  // namespace moe
