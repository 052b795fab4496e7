// `moescope logits`: raw router logits per expert, and distributions of logits, softmax
// probabilities, the softmax mass of the selected top-k and the sum of the top-k weights.
#include <algorithm>
#include <stdexcept>

#include "cli/command.hpp"
#include "cli/deep_report.hpp"

namespace moe {

namespace {
std::vector<int32_t> logit_layers(const TagStats& tag, const QueryOptions& q) {
    std::vector<int32_t> out;
    for (int32_t id : tag.layer_ids())
        if ((!q.layer || id == *q.layer) && !tag.layer(id)->logits.empty()) out.push_back(id);
    return out;  // empty: the records carried neither logits nor weights (not an error)
}

void write_histogram(JsonWriter& w, std::string_view name, const Histogram& h) {
    w.key(name).begin_object().field("lo", h.lo).field("hi", h.hi).field("bin_width", h.width());
    w.field("underflow", h.counts.front())
        .field("overflow", h.counts.back())
        .key("counts")
        .begin_array();
    for (size_t i = 1; i + 1 < h.counts.size(); ++i)
        w.value(h.counts[i]);
    w.end_array().end_object();
}

std::string histogram_text(std::string_view title, const Histogram& h) {
    const uint64_t n = h.total();
    std::string s = "  " + std::string(title) + " (" + fmt_num::integer(n) + " values):\n";
    if (n == 0) return s;
    const uint64_t peak = *std::max_element(h.counts.begin(), h.counts.end());
    Table t({"from", "to", "count", "fraction", ""});
    auto row = [&](std::string from, std::string to, uint64_t c) {
        if (c == 0) return;
        const auto bar =
            static_cast<size_t>(40.0 * static_cast<double>(c) / static_cast<double>(peak) + 0.5);
        t.add({from, to, fmt_num::integer(c),
               fmt_num::percent(static_cast<double>(c) / static_cast<double>(n)),
               std::string(bar, '#')});
    };
    row("-inf", fmt_num::sig(h.lo, 4), h.counts.front());
    for (size_t i = 0; i < h.bins(); ++i)
        row(fmt_num::sig(h.lo + h.width() * static_cast<double>(i), 4),
            fmt_num::sig(h.lo + h.width() * static_cast<double>(i + 1), 4), h.counts[i + 1]);
    row(fmt_num::sig(h.hi, 4), "inf", h.counts.back());
    return s + t.render("    ");
}

std::vector<std::string> experts_header(bool with_layer) {
    std::vector<std::string> h = {"expert", "count", "mean", "std", "min", "max"};
    if (with_layer) h.insert(h.begin(), {"tag", "layer"});
    return h;
}

Table experts_table(const TagStats& tag, int32_t id, bool with_layer) {
    Table t(experts_header(with_layer));
    const LogitStats& ls = tag.layer(id)->logits;
    // with_layer is the CSV form: empty cells for nulls.
    const auto num = [&](double v) { return with_layer ? fmt_num::csv(v) : fmt_num::sig(v, 6); };
    for (size_t e = 0; e < ls.per_expert.size(); ++e) {
        const RunningStats& r = ls.per_expert[e];
        std::vector<std::string> row = {std::to_string(e),       fmt_num::integer(r.n),
                                        num(r.n ? r.mean : NAN), num(r.std_pop()),
                                        num(r.n ? r.min : NAN),  num(r.n ? r.max : NAN)};
        if (with_layer) row.insert(row.begin(), {tag.name, std::to_string(id)});
        t.add(row);
    }
    return t;
}
}  // namespace

void write_logits_json(JsonWriter& w, const TagStats& tag, const QueryOptions& q) {
    w.key("logits").begin_array();
    for (int32_t id : logit_layers(tag, q)) {
        const LogitStats& ls = tag.layer(id)->logits;
        w.begin_object().field("tag", std::string_view(tag.name)).field("layer", id);
        w.field("records", ls.records)
            .field("weight_records", ls.weight_records)
            .key("experts")
            .begin_array();
        for (size_t e = 0; e < ls.per_expert.size(); ++e) {
            const RunningStats& r = ls.per_expert[e];
            w.begin_object().field("expert", static_cast<uint64_t>(e)).field("count", r.n);
            w.field("mean", r.n ? r.mean : NAN)
                .field("std", r.std_pop())
                .field("min", r.n ? r.min : NAN);
            w.field("max", r.n ? r.max : NAN).end_object();
        }
        w.end_array().key("histograms").begin_object();
        write_histogram(w, "logits", ls.logits);
        write_histogram(w, "probs", ls.probs);
        write_histogram(w, "topk_prob_mass", ls.topk_prob_mass);
        write_histogram(w, "topk_weight_sum", ls.topk_weight_sum);
        w.end_object().end_object();
    }
    w.end_array();
}

std::string logits_text(const TagStats& tag, const QueryOptions& q) {
    const auto layers = logit_layers(tag, q);
    if (layers.empty())
        return "No router logits or weights recorded for tag '" + tag.name + "'" +
               (q.layer ? " in layer " + std::to_string(*q.layer) : std::string()) +
               " (records need a logits or weights field).\n";
    if (!q.layer) {
        Table t({"layer", "logit_records", "mean_logit", "topk_prob_mass_mean", "weight_records"});
        for (int32_t id : layers) {
            const LogitStats& ls = tag.layer(id)->logits;
            RunningStats all;
            for (const auto& r : ls.per_expert)
                all.merge(r);
            double mass = 0;
            const Histogram& h = ls.topk_prob_mass;
            for (size_t i = 0; i < h.bins(); ++i)
                mass += static_cast<double>(h.counts[i + 1]) * (h.lo + h.width() * (i + 0.5));
            t.add({std::to_string(id), fmt_num::integer(ls.records),
                   fmt_num::sig(all.n ? all.mean : NAN, 5),
                   fmt_num::sig(h.total() ? mass / static_cast<double>(h.total()) : NAN, 4),
                   fmt_num::integer(ls.weight_records)});
        }
        return "Router logits per layer (tag '" + tag.name +
               "'; mean top-k softmax mass from bin centres; "
               "--layer L for details)\n" +
               t.render();
    }
    const LogitStats& ls = tag.layer(layers.front())->logits;
    std::string s = "Layer " + std::to_string(layers.front()) + " (tag '" + tag.name +
                    "'): " + fmt_num::integer(ls.records) + " records with logits, " +
                    fmt_num::integer(ls.weight_records) +
                    " with top-k weights\n\nRaw logits per expert:\n";
    s += experts_table(tag, layers.front(), false).render("  ") + "\n";
    s += histogram_text("logits", ls.logits) + "\n";
    s += histogram_text("softmax probabilities (every expert)", ls.probs) + "\n";
    s += histogram_text("softmax mass of the selected top-k", ls.topk_prob_mass) + "\n";
    s += histogram_text("sum of the reported top-k weights", ls.topk_weight_sum);
    return s;
}

std::string logits_csv(const TagStats& tag, const QueryOptions& q) {
    std::string s = Table(experts_header(true)).csv();  // the header, also with no rows
    bool header = false;
    for (int32_t id : logit_layers(tag, q)) {
        std::string part = experts_table(tag, id, true).csv();
        if (!header) part.erase(0, part.find('\n') + 1);
        s += part;
        header = false;
    }
    return s;
}

extern const CommandSpec kLogitsCommand = {
    "logits",
    "Router logits and weights: per-expert moments, distributions",
    [](CLI::App& app, CommandArgs& a) {
        flag::query(app, a);
        flag::layer(app, a, "Layer (default: a summary of every layer)");
    },
    kNeedsTotals | kNeedsLayer | kNeedsPerToken,
    [](JsonWriter& w, const Query& x) { write_logits_json(w, x.tag(), x.q); },
    [](const Query& x) { return logits_csv(x.tag(), x.q); },
    [](const Query& x) { return logits_text(x.tag(), x.q); },
};

}  // namespace moe
