// Input formats and their names on the command line.
#pragma once

#include <optional>
#include <string_view>

namespace moe {

enum class Format : uint8_t {
    auto_detect,    // per line: llama-server CSV, NDJSON or eval-callback text
    llama_csv,      // patched llama-server moe_expert_selection.log
    ndjson,         // one JSON object per line (and router-pipeline documents)
    eval_callback,  // llama.cpp eval-callback text: "Layer N - Selected Expert IDs"
};

constexpr std::string_view format_name(Format f) {
    switch (f) {
        case Format::auto_detect:
            return "auto";
        case Format::llama_csv:
            return "llama-csv";
        case Format::ndjson:
            return "ndjson";
        case Format::eval_callback:
            return "eval-callback";
    }
    return "auto";
}

inline std::optional<Format> parse_format(std::string_view s) {
    for (Format f : {Format::auto_detect, Format::llama_csv, Format::ndjson, Format::eval_callback})
        if (s == format_name(f)) return f;
    return std::nullopt;
}

}  // namespace moe
