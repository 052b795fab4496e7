// The data read holds nothing of the kind a figure needs (a layer, a tag, a time window,
// routing weights); the message names what exists. Every layer may throw it; the CLI exits 3
// (cli/command_runner.hpp kExitNoData).
#pragma once

#include <stdexcept>

namespace moe {

struct NoDataError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace moe
