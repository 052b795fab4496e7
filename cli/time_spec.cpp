#include "cli/time_spec.hpp"

#include <charconv>
#include <ctime>

#include "analytics/wall_clock.hpp"

namespace moe {

namespace {
std::optional<int64_t> parse_int(std::string_view s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}
}  // namespace

std::string untimed_reason(bool engine_totals, bool from_files) {
    if (engine_totals)
        return "engine totals (count-only data) have no time (docs/FIGURES.md \"Count-only "
               "data\")";
    return from_files ? "these inputs have no ts/timestamp field"
                      : "the database has no timeline (moescoped --analytics full keeps it)";
}

int64_t now_seconds() {
    return static_cast<int64_t>(wall_clock_seconds());
}

std::optional<int64_t> parse_time_spec(const std::string& text, int64_t now) {
    if (text.empty()) return std::nullopt;
    if (text == "now") return now;
    if (text.size() > 2 && text[0] == '-') {
        const char unit = text.back();
        const int64_t mult = unit == 's'   ? 1
                             : unit == 'm' ? 60
                             : unit == 'h' ? 3600
                             : unit == 'd' ? 86400
                                           : 0;
        if (mult) {
            if (auto n = parse_int(std::string_view(text).substr(1, text.size() - 2)); n && *n >= 0)
                return now - *n * mult;
            return std::nullopt;
        }
    }
    if (auto n = parse_int(text)) return n;
    std::tm tm{};
    for (const char* fmt : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                            "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"}) {
        tm = {};
        const char* end = strptime(text.c_str(), fmt, &tm);
        if (!end || *end != '\0') continue;
        const std::tm asked = tm;
        const time_t t = timegm(&tm);  // normalises 2026-02-30 to March 2: refuse that
        if (tm.tm_mday != asked.tm_mday || tm.tm_mon != asked.tm_mon ||
            tm.tm_hour != asked.tm_hour || tm.tm_min != asked.tm_min)
            return std::nullopt;
        return static_cast<int64_t>(t);
    }
    return std::nullopt;
}

}  // namespace moe
