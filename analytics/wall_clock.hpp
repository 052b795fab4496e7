// Wall-clock time in seconds since the epoch, the one clock of both binaries: the arrival time
// of records without a timestamp, the store's save time, the CLI's "now".
#pragma once

#include <chrono>

namespace moe {

inline double wall_clock_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace moe
