// The per-layer figures, declared once: key (JSON key, CSV column, Prometheus name suffix),
// a short table header, the unit, a one-line definition and how to read the value. Every
// output (layer JSON, CSV, the brief table, the HTML report, Prometheus gauges) iterates
// this table, so a figure has one name everywhere. docs/FIGURES.md defines each one; a
// test checks every key is documented there.
#pragma once

#include <span>
#include <string_view>

#include "analytics/imbalance.hpp"
#include "analytics/layer_stats.hpp"

namespace moe {

// How a value is printed: an exact integer, an expert id (-1: none), or a real number.
enum class FigureKind { integer, expert, real };

// What a figure is computed from: one layer's token count and top-k and the imbalance
// figures of its hits.
struct LayerFigureInput {
    LayerFigureInput(uint64_t tokens_, uint32_t top_k_, const ImbalanceFigures& fig_,
                     bool tokens_known_ = true)
        : tokens(tokens_), top_k(top_k_), fig(fig_), tokens_known(tokens_known_) {}
    LayerFigureInput(const LayerStats& l, const ImbalanceFigures& fig_)
        : LayerFigureInput(l.tokens, l.top_k, fig_, l.tokens_known()) {}
    uint64_t tokens;
    uint32_t top_k;  // 0: not known (all layers combined, or a Prometheus "other" tag)
    const ImbalanceFigures& fig;
    bool tokens_known;  // false: engine totals without k (printed null / "-")
};

struct Figure {
    std::string_view key;     // the one name: JSON key, CSV header, moescope_layer_<key>
    std::string_view header;  // short column header for terminal tables
    std::string_view unit;    // e.g. "tokens", "fraction", "bits", "ratio"
    std::string_view help;    // one line (Prometheus HELP, --help texts)
    FigureKind kind;
    double (*value)(const LayerFigureInput&);  // NaN/inf where undefined (printed as null)
    bool brief;                                // a column of `layers --brief`
    bool gauge;                                // exported as a Prometheus gauge
};

// Every per-layer figure, in output order.
std::span<const Figure> layer_figures();
const Figure* find_layer_figure(std::string_view key);

}  // namespace moe
