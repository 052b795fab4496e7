// --help of both binaries within the terminal's width (at most 100 columns, issue 31): CLI11
// 2.1 prints each option's help on one line, however long. One formatter for every app.
#pragma once

#include <cstddef>

namespace CLI {
class App;
}  // namespace CLI

namespace moe {

// Columns --help fills: $COLUMNS when set (40 to 100), else 100.
size_t help_width();

// Makes `app` (and the subcommands added to it afterwards) print help wrapped at
// help_width(): option and command descriptions under themselves, long option names and
// value lists on lines of their own.
void use_wrapped_help(CLI::App& app);

}  // namespace moe
