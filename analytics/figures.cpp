#include "analytics/figures.hpp"

namespace moe {

namespace {

using In = LayerFigureInput;
double d(uint64_t v) {
    return static_cast<double>(v);
}

// One line per figure. Definitions: docs/FIGURES.md ("Per-layer figures").
constexpr Figure kFigures[] = {
    {"tokens", "tokens", "tokens", "Routing records (tokens) of the layer.", FigureKind::integer,
     [](const In& x) { return x.tokens_known ? d(x.tokens) : NAN; }, true, false},
    {"selections", "selections", "selections", "Expert selections S = sum of hits.",
     FigureKind::integer, [](const In& x) { return d(x.fig.selections); }, false, false},
    {"num_experts", "E", "experts", "Experts per layer E (stated, else largest id + 1).",
     FigureKind::integer, [](const In& x) { return d(x.fig.num_experts); }, false, false},
    {"top_k", "k", "experts per token", "Experts selected per token (null when not known).",
     FigureKind::integer, [](const In& x) { return x.top_k ? d(x.top_k) : NAN; }, true, false},
    {"unique_experts", "used", "experts", "Experts selected at least once.", FigureKind::integer,
     [](const In& x) { return d(x.fig.unique_experts); }, true, false},
    {"dead_experts", "dead", "experts", "Experts never selected.", FigureKind::integer,
     [](const In& x) { return d(x.fig.dead_experts); }, true, true},
    {"mean", "mean", "selections per expert", "Mean hits per expert, S / E.", FigureKind::real,
     [](const In& x) { return x.fig.mean; }, false, false},
    {"median", "median", "selections per expert", "Median hits per expert.", FigureKind::real,
     [](const In& x) { return x.fig.median; }, false, false},
    {"min", "min", "selections", "Hits of the least selected expert.", FigureKind::integer,
     [](const In& x) { return d(x.fig.min); }, false, false},
    {"max", "max", "selections", "Hits of the most selected expert.", FigureKind::integer,
     [](const In& x) { return d(x.fig.max); }, true, false},
    {"min_expert", "min id", "expert id", "Least selected expert (lowest id among ties).",
     FigureKind::expert, [](const In& x) { return d(x.fig.argmin); }, false, false},
    {"max_expert", "max id", "expert id", "Most selected expert (lowest id among ties).",
     FigureKind::expert, [](const In& x) { return d(x.fig.argmax); }, true, false},
    {"std", "std", "selections", "Sample standard deviation of hits (ddof 1).", FigureKind::real,
     [](const In& x) { return x.fig.std; }, false, false},
    {"cv", "CV", "ratio", "Coefficient of variation of hits, std / mean.", FigureKind::real,
     [](const In& x) { return x.fig.cv; }, true, true},
    {"gini", "Gini", "ratio 0..1", "Gini coefficient of hits (0 = balanced).", FigureKind::real,
     [](const In& x) { return x.fig.gini; }, true, true},
    {"entropy_bits", "H bits", "bits", "Routing entropy -sum p log2 p over expert shares.",
     FigureKind::real, [](const In& x) { return x.fig.entropy_bits; }, false, true},
    {"entropy_norm", "H/Hmax", "ratio 0..1", "Entropy divided by log2 E (1 = balanced).",
     FigureKind::real, [](const In& x) { return x.fig.entropy_norm; }, true, true},
    {"top5_share", "top-5", "fraction", "Fraction of selections taken by the 5 busiest experts.",
     FigureKind::real, [](const In& x) { return x.fig.top5_share; }, false, true},
    {"top10_share", "top-10", "fraction", "Fraction of selections taken by the 10 busiest experts.",
     FigureKind::real, [](const In& x) { return x.fig.top10_share; }, true, true},
    {"max_over_mean", "max/mean", "ratio", "Load imbalance factor: max hits / mean hits.",
     FigureKind::real, [](const In& x) { return x.fig.max_over_mean; }, true, true},
    {"mean_over_max", "mean/max", "ratio 0..1", "Balancedness: mean hits / max hits.",
     FigureKind::real, [](const In& x) { return x.fig.mean_over_max; }, false, true},
    {"max_over_min", "max/min", "ratio", "Max hits / min hits (inf with a dead expert).",
     FigureKind::real, [](const In& x) { return x.fig.max_over_min; }, false, false},
};

}  // namespace

std::span<const Figure> layer_figures() {
    return kFigures;
}

const Figure* find_layer_figure(std::string_view key) {
    for (const Figure& f : kFigures)
        if (f.key == key) return &f;
    return nullptr;
}

}  // namespace moe
