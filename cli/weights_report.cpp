#include "cli/weights_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/table.hpp"
#include "storage/store.hpp"

namespace moe {

namespace {

using models::ExpertSimilarity;
using models::RouterSimilarity;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Files larger than this get a progress bar on a terminal.
constexpr uint64_t kProgressBytes = uint64_t{2} << 30;

// "[#####     ] 12/48" on stderr, redrawn in place.
class ProgressBar {
  public:
    explicit ProgressBar(bool on) : on_(on) {}
    ~ProgressBar() {
        if (on_ && drawn_) std::fputs("\r\033[K", stderr);
    }
    void operator()(size_t done, size_t total) {
        if (!on_ || total == 0) return;
        const size_t width = 40, fill = done * width / total;
        std::fprintf(stderr, "\rcomparing expert weights [%s%s] %zu/%zu",
                     std::string(fill, '#').c_str(), std::string(width - fill, ' ').c_str(), done,
                     total);
        std::fflush(stderr);
        drawn_ = true;
    }

  private:
    bool on_, drawn_ = false;
};

std::vector<PairUsage> join_usage(const std::string& db, const CommandArgs& a,
                                  const ExpertSimilarity& s) {
    Aggregates agg(a.analysis.resolved_analytics());
    Store::open_read_only(db).load(agg, Store::Tracing::skip);
    const std::vector<SourceStats> sources;
    const Query x{agg, sources, a.q, a, db};
    const TagStats& tag = x.tag();
    std::vector<PairUsage> out;
    for (const auto& p : s.similar_pairs) {
        PairUsage u{0, kNaN, kNaN, kNaN};
        const LayerStats* l = tag.layer(p.layer);
        const auto E = l ? l->num_experts() : 0;
        const uint64_t S = l ? l->selections() : 0;
        if (l && S > 0) {
            const auto ha = static_cast<size_t>(p.a) < E ? l->hits[static_cast<size_t>(p.a)] : 0;
            const auto hb = static_cast<size_t>(p.b) < E ? l->hits[static_cast<size_t>(p.b)] : 0;
            u.count = l->cooc.get(static_cast<size_t>(p.a), static_cast<size_t>(p.b));
            u.share_a = static_cast<double>(ha) / static_cast<double>(S);
            u.share_b = static_cast<double>(hb) / static_cast<double>(S);
            // lift = C T / (h_a h_b), as in analytics/cooc_figures (docs/FIGURES.md).
            if (ha > 0 && hb > 0)
                u.lift = static_cast<double>(u.count) * static_cast<double>(l->tokens) /
                         (static_cast<double>(ha) * static_cast<double>(hb));
        }
        out.push_back(u);
    }
    return out;
}

void matrix_json(JsonWriter& w, std::string_view key, const Eigen::MatrixXd& m) {
    w.key(key).begin_array();
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
        w.begin_array();
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            w.value(m(i, j));
        w.end_array();
    }
    w.end_array();
}

void delta_json(JsonWriter& w, std::string_view key, const std::vector<models::RouterDelta>& ds) {
    w.key(key).begin_array();
    for (const auto& d : ds)
        w.begin_object()
            .field("delta", d.delta)
            .field("pairs", static_cast<uint64_t>(d.pairs))
            .field("cosine", d.cosine)
            .field("row_cosine", d.row_cosine)
            .field("row_norm_correlation", d.row_norm_correlation)
            .end_object();
    w.end_array();
}

void optional_int(JsonWriter& w, std::string_view key, const std::optional<int64_t>& v) {
    w.key(key);
    v ? w.value(*v) : w.null();
}

// One character per cell, darker for higher cosine: a layer x layer matrix in 80 columns.
std::string shade(double v) {
    static constexpr std::string_view ramp = " .:-=+*#%@";
    if (std::isnan(v)) return "?";
    const double t = std::clamp(v, 0.0, 1.0) * static_cast<double>(ramp.size() - 1);
    return std::string(1, ramp[static_cast<size_t>(std::lround(t))]);
}

std::string usage_note(const PairUsage& u) {
    if (std::isnan(u.share_a)) return "no routing";
    if (u.share_a == 0 && u.share_b == 0) return "both unused";
    if (u.count == 0) return "never together";
    return "";
}

}  // namespace

WeightsResult analyse_weights(const WeightsArgs& w, const CommandArgs& a) {
    const auto start = std::chrono::steady_clock::now();
    WeightsResult r;
    r.path = w.model;
    const models::MoeModel m(w.model);
    r.facts = m.facts();
    const bool both = !w.router && !w.experts;
    if (both || w.router) {
        r.router = models::router_similarity(m);
        r.bytes += r.router->bytes;
        for (int32_t d = 1; d <= a.q.delta_max; ++d)
            if (auto rd = models::router_delta(*r.router, d); rd.pairs > 0)
                r.by_delta.push_back(rd);
        for (int32_t d : a.q.periodic)
            r.periodic.push_back(models::router_delta(*r.router, d));
    }
    if (both || w.experts) {
        const std::string why = models::expert_weights_problem(m);
        if (!why.empty() && w.experts)
            throw std::runtime_error(w.model + ": cannot compare expert weights: " + why);
        if (!why.empty()) {
            r.experts_skipped = why;
        } else {
            models::ExpertOptions o;
            o.top = a.q.top;
            o.deltas = {1};
            for (int32_t d : a.q.periodic)
                if (std::find(o.deltas.begin(), o.deltas.end(), d) == o.deltas.end())
                    o.deltas.push_back(d);
            ProgressBar bar(m.facts().file_bytes > kProgressBytes && ::isatty(STDERR_FILENO));
            o.progress = [&bar](size_t done, size_t total) { bar(done, total); };
            r.experts = models::expert_similarity(m, o);
            r.bytes += r.experts->bytes;
        }
    }
    if (!w.db.empty() && r.experts) r.usage = join_usage(w.db, a, *r.experts);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

void write_weights_json(JsonWriter& w, const WeightsResult& r) {
    w.key("model").begin_object();
    w.field("path", std::string_view(r.path))
        .field("format", std::string_view(r.facts.format))
        .field("architecture", std::string_view(r.facts.architecture));
    optional_int(w, "layers", r.facts.layers);
    optional_int(w, "experts", r.facts.experts);
    optional_int(w, "top_k", r.facts.top_k);
    optional_int(w, "n_embd", r.facts.n_embd);
    w.field("file_bytes", r.facts.file_bytes).end_object();
    w.field("bytes_processed", r.bytes).field("seconds", r.seconds);
    w.key("router");
    if (!r.router) {
        w.null();
    } else {
        w.begin_object().key("layers").begin_array();
        for (int32_t l : r.router->layers)
            w.value(l);
        w.end_array();
        matrix_json(w, "cosine", r.router->cosine);
        matrix_json(w, "row_cosine", r.router->row_cosine);
        matrix_json(w, "row_norm_correlation", r.router->row_norm_correlation);
        delta_json(w, "by_delta", r.by_delta);
        delta_json(w, "periodic", r.periodic);
        w.end_object();
    }
    w.key("experts");
    if (!r.experts) {
        w.null();
        if (!r.experts_skipped.empty())
            w.field("experts_skipped", std::string_view(r.experts_skipped));
        return;
    }
    const ExpertSimilarity& e = *r.experts;
    w.begin_object().key("similar_pairs").begin_array();
    for (size_t i = 0; i < e.similar_pairs.size(); ++i) {
        const auto& p = e.similar_pairs[i];
        w.begin_object().field("layer", p.layer).field("a", p.a).field("b", p.b);
        w.field("cosine", p.cosine);
        if (i < r.usage.size())
            w.field("count", r.usage[i].count)
                .field("lift", r.usage[i].lift)
                .field("share_a", r.usage[i].share_a)
                .field("share_b", r.usage[i].share_b);
        w.end_object();
    }
    w.end_array().key("layers").begin_array();
    for (const auto& l : e.layers)
        w.begin_object()
            .field("layer", l.layer)
            .field("mean_cosine", l.mean_cosine)
            .field("max_cosine", l.max_cosine)
            .end_object();
    w.end_array().key("cross_layer").begin_array();
    for (const auto& c : e.cross) {
        w.begin_object().field("delta", c.delta).field("n", static_cast<uint64_t>(c.n));
        w.field("mean", c.mean).field("median", c.median).key("histogram").begin_array();
        for (uint64_t h : c.histogram)
            w.value(h);
        w.end_array().end_object();
    }
    w.end_array().end_object();
}

std::string weights_text(const WeightsResult& r, const QueryOptions& q) {
    const auto& f = r.facts;
    auto opt = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "?"; };
    std::string s = wrap("",
                         "Model " + r.path + " (" + f.format +
                             (f.architecture.empty() ? "" : ", " + f.architecture) +
                             "): " + opt(f.layers) + " layers, " + opt(f.experts) +
                             " experts, top-" + opt(f.top_k) + ", n_embd " + opt(f.n_embd),
                         80, "  ");
    if (r.router) {
        s += wrap("\n",
                  "Router similarity between layers l and l + delta, mean over layer pairs "
                  "(cosine: flattened router matrices; row_cos: per-expert rows; norm_r: "
                  "correlation of row norms):",
                  80, "");
        Table t({"delta", "cosine", "row_cos", "norm_r", "pairs", ""});
        for (const auto& d : r.by_delta) {
            const int bar = std::isnan(d.cosine)
                                ? 0
                                : static_cast<int>(std::lround(std::max(0.0, d.cosine) * 30));
            t.add({std::to_string(d.delta), fmt_num::fixed(d.cosine, 4),
                   fmt_num::fixed(d.row_cosine, 4), fmt_num::fixed(d.row_norm_correlation, 4),
                   std::to_string(d.pairs), std::string(static_cast<size_t>(bar), '#')});
        }
        s += t.empty() ? "  (fewer than two MoE layers)\n" : t.render("  ");
        if (!r.periodic.empty()) {
            s += "Periodic deltas:\n";
            Table p({"delta", "cosine", "row_cos", "norm_r", "pairs"});
            for (const auto& d : r.periodic)
                p.add({std::to_string(d.delta), fmt_num::fixed(d.cosine, 4),
                       fmt_num::fixed(d.row_cosine, 4), fmt_num::fixed(d.row_norm_correlation, 4),
                       std::to_string(d.pairs)});
            s += p.render("  ");
        }
        const auto& ls = r.router->layers;
        if (q.matrix && ls.size() <= 70) {
            s += "\nRouter cosine, layer x layer (' ' 0 .. '@' 1):\n";
            for (size_t i = 0; i < ls.size(); ++i) {
                char head[16];
                std::snprintf(head, sizeof head, "  %4d ", ls[i]);
                s += head;
                for (size_t j = 0; j < ls.size(); ++j)
                    s += shade(r.router->cosine(static_cast<Eigen::Index>(i),
                                                static_cast<Eigen::Index>(j)));
                s += "\n";
            }
        }
    }
    if (r.experts) {
        const auto& e = *r.experts;
        s += "\nMost similar experts (cosine of flattened gate/up/down weights):\n";
        std::vector<std::string> head = {"layer", "a", "b", "cosine"};
        if (!r.usage.empty()) head.insert(head.end(), {"lift", "share_a", "share_b", "note"});
        Table t(head);
        for (size_t i = 0; i < e.similar_pairs.size(); ++i) {
            const auto& p = e.similar_pairs[i];
            std::vector<std::string> row = {std::to_string(p.layer), std::to_string(p.a),
                                            std::to_string(p.b), fmt_num::fixed(p.cosine, 4)};
            if (i < r.usage.size()) {
                const auto& u = r.usage[i];
                row.insert(row.end(), {fmt_num::fixed(u.lift, 2), fmt_num::percent(u.share_a),
                                       fmt_num::percent(u.share_b), usage_note(u)});
            }
            t.add(row);
        }
        s += t.empty() ? "  (no expert pairs)\n" : t.render("  ");
        s += "\nSame expert across layers (cosine of expert e at l and at l + delta):\n";
        Table c({"delta", "n", "mean", "median", "histogram -1..1"});
        for (const auto& d : e.cross) {
            static constexpr std::string_view levels = " .:-=+*#%@";
            uint64_t top = 1;
            for (uint64_t h : d.histogram)
                top = std::max(top, h);
            std::string spark;
            for (uint64_t h : d.histogram)
                spark += levels[static_cast<size_t>((h * (levels.size() - 1) + top - 1) / top)];
            c.add({std::to_string(d.delta), std::to_string(d.n), fmt_num::fixed(d.mean, 4),
                   fmt_num::fixed(d.median, 4), "|" + spark + "|"});
        }
        s += c.render("  ");
    } else if (!r.experts_skipped.empty()) {
        s += wrap("\n", "Expert weights not compared: " + r.experts_skipped, 80, "  ");
    }
    return s;
}

std::string weights_csv(const WeightsResult& r) {
    // Long format, one figure per row: every section in one valid table.
    Table t({"figure", "layer", "layer_b", "a", "b", "delta", "value"});
    auto num = [](double v) { return fmt_num::csv(v); };
    if (r.router) {
        const auto& ls = r.router->layers;
        const std::pair<const char*, const Eigen::MatrixXd*> ms[] = {
            {"router_cosine", &r.router->cosine},
            {"router_row_cosine", &r.router->row_cosine},
            {"router_row_norm_correlation", &r.router->row_norm_correlation}};
        for (const auto& [name, m] : ms)
            for (size_t i = 0; i < ls.size(); ++i)
                for (size_t j = 0; j < ls.size(); ++j)
                    t.add({name, std::to_string(ls[i]), std::to_string(ls[j]), "", "",
                           std::to_string(ls[j] - ls[i]),
                           num((*m)(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)))});
        for (const auto& d : r.by_delta)
            t.add(
                {"router_cosine_by_delta", "", "", "", "", std::to_string(d.delta), num(d.cosine)});
    }
    if (r.experts) {
        for (size_t i = 0; i < r.experts->similar_pairs.size(); ++i) {
            const auto& p = r.experts->similar_pairs[i];
            const std::string l = std::to_string(p.layer), a = std::to_string(p.a),
                              b = std::to_string(p.b);
            t.add({"expert_cosine", l, "", a, b, "", num(p.cosine)});
            if (i < r.usage.size()) {
                t.add({"pair_lift", l, "", a, b, "", num(r.usage[i].lift)});
                t.add({"pair_share_a", l, "", a, b, "", num(r.usage[i].share_a)});
                t.add({"pair_share_b", l, "", a, b, "", num(r.usage[i].share_b)});
            }
        }
        for (const auto& c : r.experts->cross) {
            t.add({"cross_layer_mean", "", "", "", "", std::to_string(c.delta), num(c.mean)});
            t.add({"cross_layer_median", "", "", "", "", std::to_string(c.delta), num(c.median)});
        }
    }
    return t.csv();
}

namespace {
// The weights command's own options.
struct WeightsCommandArgs final : CommandOptions {
    WeightsArgs w;
};
}  // namespace

extern const CommandSpec kWeightsCommand = {
    "weights",
    "Compare router and expert weights of a GGUF or safetensors model",
    [](CLI::App& app, CommandArgs& a) {
        WeightsArgs& w = a.make_own<WeightsCommandArgs>().w;
        app.add_option("model", w.model,
                       "A .gguf file, a .safetensors file, a model.safetensors.index.json or a "
                       "directory holding them")
            ->required()
            ->check(CLI::ExistingPath);
        app.add_flag("--router", w.router, "Router similarity only (with --experts: both)");
        app.add_flag("--experts", w.experts,
                     "Expert similarity only; fails if the expert weights cannot be read");
        flag::corr(app, a);
        flag::top(app, a, 10, "Most similar expert pairs to list");
        flag::matrix(app, a, "Print the router cosine matrix (one character per layer pair)");
        flag::output(app, a);
        flag::tag(app, a);
        app.add_option("--db", w.db,
                       "Join a routing database: co-selection lift and shares of similar pairs")
            ->check(CLI::ExistingFile);
    },
    kNoLoad,
    nullptr,
    nullptr,
    nullptr,
    [](const Query& x) {
        const WeightsResult r = analyse_weights(x.own<WeightsCommandArgs>().w, x.args);
        std::string out;
        if (x.q.format == OutputFormat::json) {
            JsonWriter w(out);
            w.begin_object();
            write_weights_json(w, r);
            w.end_object();
            out += "\n";
        } else if (x.q.format == OutputFormat::csv) {
            out = weights_csv(r);
        } else {
            out = printable_text(weights_text(r, x.q));
        }
        std::fwrite(out.data(), 1, out.size(), stdout);
        return 0;
    },
};

}  // namespace moe
