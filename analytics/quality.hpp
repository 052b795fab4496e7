// The data-quality checks, declared once (docs/FIGURES.md "Data quality"): what each one
// proves about records and what it leaves out. Ingest applies them (ingest/stream_ingest.hpp)
// and counts what it left out per source (SourceStats) and per tag and layer
// (LayerStats::left_out); every output (summary, --json `quality`, the HTML verdict, the
// daemon's log, storage columns) iterates this table.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace moe {

// The checks that prove records wrong and leave them out (unless --keep-suspect).
enum class Suspect : uint8_t { identical_run = 0, strided_view = 1 };
inline constexpr size_t kSuspectKinds = 2;
// Records left out, one counter per Suspect.
using LeftOut = std::array<uint64_t, kSuspectKinds>;

inline uint64_t total(const LeftOut& l) {
    uint64_t n = 0;
    for (uint64_t v : l)
        n += v;
    return n;
}
inline void add_to(LeftOut& into, const LeftOut& from) {
    for (size_t i = 0; i < kSuspectKinds; ++i)
        into[i] += from[i];
}

struct QualityCheck {
    std::string_view code;      // JSON key, warning code, storage column suffix
    std::string_view label;     // short text label ("identical runs")
    std::string_view proves;    // what a hit of the check proves, one line
    std::string_view left_out;  // which records it leaves out by default; "" for a note
    std::optional<Suspect> suspect;
};

// Every check, in output order: those that leave records out first, then the notes.
std::span<const QualityCheck> quality_checks();

}  // namespace moe
