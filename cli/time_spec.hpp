// --since/--until values: seconds since the epoch, an ISO 8601 UTC time
// ("2026-11-23T06:00:00Z", "2026-11-23 06:00"), or a time relative to now ("-2h", "-30m",
// "-90s", "-1d", "now"). Dates that do not exist (2026-02-30) and "" are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace moe {

std::optional<int64_t> parse_time_spec(const std::string& text, int64_t now);
// Seconds since the epoch: the `now` the CLI passes to parse_time_spec.
int64_t now_seconds();

// Why records have no time, for a refusal that needs timed records (--since, drift):
// engine totals never have one; FILE arguments lack the field; a database lacks the timeline.
std::string untimed_reason(bool engine_totals, bool from_files);

// The accepted forms, for error messages.
inline constexpr const char* kTimeSpecForms =
    "seconds since the epoch, 2026-11-23T06:00:00Z, '2026-11-23 06:00', 2026-11-23, -30m, -2h, "
    "-1d or now";

}  // namespace moe
