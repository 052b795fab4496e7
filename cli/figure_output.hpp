// Printing the figures of analytics/figures.hpp: one function per output, so every command
// writes a figure under its one key with one precision (docs/FIGURES.md "Precision and nulls").
#pragma once

#include <string>

#include "analytics/figures.hpp"
#include "cli/json_writer.hpp"
#include "cli/query_options.hpp"

namespace moe {

// Every figure of layer_figures() as "key": value (null where undefined).
void write_figures_json(JsonWriter& w, const LayerFigureInput& in);

// One figure as a cell: integers exact; reals with 6 significant digits in CSV, 3 decimals
// in tables; undefined values empty in CSV and "-" in tables.
std::string format_figure(const Figure& f, const LayerFigureInput& in, OutputFormat format);

}  // namespace moe
