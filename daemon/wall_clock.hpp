// Wall-clock time in seconds since the epoch: the arrival time of records without a timestamp.
#pragma once

#include <chrono>

namespace moe {

inline double wall_clock_seconds() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace moe
