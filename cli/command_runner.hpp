// Runs the CLI from the command registry: builds the parser (one subcommand per
// CommandSpec), loads what the chosen command needs from the database or from FILE
// arguments, and renders it. Exit codes: 0 success, 1 a file or database could not be
// read, 2 a bad argument, 3 nothing to show for the selection (layer, tag, window), 4 a
// --fail-on gate was crossed (cli/fail_on.hpp).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "analytics/no_data_error.hpp"
#include "cli/command.hpp"

namespace moe {

inline constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitNoData = 3;

// The command's output in the format its options ask for.
std::string render(const CommandSpec& c, const Query& x);
// Writes render(c, x) to stdout, as the runner does for a command without an action (an
// action that also prints ends with it); returns kExitOk.
int print(const CommandSpec& c, const Query& x);

// A given --layer must have records in the tag; throws NoDataError naming the layers there are.
void require_layer(const Query& x);
// Throws NoDataError when the tag holds engine totals only (kNeedsPerToken).
void require_per_token(const CommandSpec& c, const Query& x);

const CommandSpec* find_command(std::string_view name);

// `moescope` itself.
int run_cli(int argc, char** argv);
// The same CLI made of `registry`'s commands.
int run_cli(int argc, char** argv, const std::vector<const CommandSpec*>& registry);

}  // namespace moe
