// Input formats by their names on the command line (--format). The names, their help text
// and the parsers behind them come from one table: parsers/format_registry.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

// What a format reads from the command line beyond its name (--counts-key, ...), given to
// every parser a stream makes (FormatEntry::make).
struct FormatSettings {
    std::string counts_key;         // counts-json: the field holding [layers][experts] counts
    std::string counts_tokens_key;  // counts-json: the field holding the token count ("": none)
};

// A registered format's name, or "auto" (every registered format, detected per line), and
// its settings. The name points at static storage (a registry entry) and the settings at the
// options that outlive every stream, so a Format is a cheap value.
class Format {
  public:
    constexpr Format() = default;
    constexpr explicit Format(std::string_view name, const FormatSettings* settings = nullptr)
        : name_(name), settings_(settings) {}
    constexpr std::string_view name() const { return name_; }
    constexpr bool is_auto() const { return name_ == kAutoName; }
    const FormatSettings& settings() const {
        static const FormatSettings none;
        return settings_ ? *settings_ : none;
    }
    friend constexpr bool operator==(Format a, Format b) { return a.name_ == b.name_; }

    static constexpr std::string_view kAutoName = "auto";
    // Shorthands for the built-in formats (a test checks they are registered).
    static const Format auto_detect, llama_csv, ndjson, eval_callback;

  private:
    std::string_view name_ = kAutoName;
    const FormatSettings* settings_ = nullptr;
};

inline constexpr Format Format::auto_detect{Format::kAutoName};
inline constexpr Format Format::llama_csv{"llama-csv"};
inline constexpr Format Format::ndjson{"ndjson"};
inline constexpr Format Format::eval_callback{"eval-callback"};

// The built-in registry, for the command lines: "auto" or a registered name.
std::optional<Format> parse_format(std::string_view name);
// Every value --format accepts, "auto" first.
std::vector<std::string> format_names();
// Help text for --format: the names (`moescope formats` shows each with its description).
std::string format_help();

}  // namespace moe
