// --since/--until values: seconds since the epoch, an ISO 8601 UTC time
// ("2026-11-23T06:00:00Z", "2026-11-23 06:00"), or a time relative to now ("-2h", "-30m",
// "-90s", "-1d", "now").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace moe {

std::optional<int64_t> parse_time_spec(const std::string& text, int64_t now);

}  // namespace moe
