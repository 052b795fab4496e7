// What the commands that follow single tokens (diff, requests, positions, affinity) share:
// they read FILE arguments, because a database keeps totals, not tokens; affinity and diff
// also read what the daemon followed live (moescoped --affinity, --diff A:B).
#pragma once

#include <string>
#include <string_view>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"

namespace moe {

// Throws NoDataError (exit 3, one line) when the query reads a database.
inline void require_token_files(const Query& x, std::string_view command) {
    if (!x.args.files.empty()) return;
    throw NoDataError("moescope " + std::string(command) +
                      " follows single tokens, which a database does not keep (it stores "
                      "totals, and what moescoped --affinity and --diff follow live): give the "
                      "log files as FILE arguments");
}

}  // namespace moe
