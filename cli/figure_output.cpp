#include "cli/figure_output.hpp"

#include <cmath>

#include "cli/table.hpp"

namespace moe {

void write_figures_json(JsonWriter& w, const LayerFigureInput& in) {
    for (const Figure& f : layer_figures()) {
        const double v = f.value(in);
        w.key(f.key);
        if (!std::isfinite(v))
            w.null();
        else if (f.kind == FigureKind::real)
            w.value(v);
        else
            w.value(static_cast<int64_t>(v));
    }
}

std::string format_figure(const Figure& f, const LayerFigureInput& in, OutputFormat format) {
    const double v = f.value(in);
    const bool csv = format == OutputFormat::csv;
    if (std::isnan(v)) return csv ? "" : "-";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    switch (f.kind) {
        case FigureKind::integer:
            return csv ? std::to_string(static_cast<int64_t>(v))
                       : fmt_num::integer(static_cast<uint64_t>(v));
        case FigureKind::expert:
            return std::to_string(static_cast<int64_t>(v));
        case FigureKind::real:
            break;
    }
    return csv ? fmt_num::sig(v, 6) : fmt_num::fixed(v, 3);
}

}  // namespace moe
