// The one-line judgement that opens `compare`, `drift`, `kde` and `diff` (issue 31): a
// reader, or a CI log, sees the answer before the tables. The text form prints `text` as its
// first line; JSON carries both as "verdict": {"result", "text"}.
#pragma once

#include <string>

#include "cli/json_writer.hpp"
#include "cli/table.hpp"

namespace moe {

// Text output whose first line is a verdict starts with this (cli/command_runner.cpp keeps
// that line first, above a quality warning).
inline constexpr std::string_view kVerdictPrefix = "verdict: ";
// A verdict longer than a line goes on in lines starting with this: one paragraph.
inline constexpr std::string_view kVerdictIndent = "  ";

struct VerdictLine {
    std::string result;  // one word: differs, same, drifted, stable, ...
    std::string text;    // "verdict: ...", no newline
};

// The verdict as text: wrapped at 100 columns, continued with kVerdictIndent; ends with a
// newline.
inline std::string verdict_paragraph(const VerdictLine& v) {
    return wrap("", v.text, 100, kVerdictIndent);
}

inline void write_verdict_json(JsonWriter& w, const VerdictLine& v) {
    w.key("verdict").begin_object();
    w.field("result", std::string_view(v.result)).field("text", std::string_view(v.text));
    w.end_object();
}

// "3 of 32 layers" / "1 layer".
inline std::string layers_count(size_t n, size_t of) {
    return std::to_string(n) + " of " + std::to_string(of) + (of == 1 ? " layer" : " layers");
}

}  // namespace moe
