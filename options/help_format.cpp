#include "options/help_format.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace moe {

namespace {

constexpr size_t kMaxWidth = 100;
constexpr size_t kMinWidth = 40;

// `text` broken at spaces into lines of at most `width` columns, each but the first
// prefixed with `indent` (a word longer than a line keeps its own line); its own line
// breaks are kept.
std::string wrap_words(std::string_view text, size_t width, size_t first_used,
                       const std::string& indent) {
    std::string out;
    size_t used = first_used;
    bool line_start = true;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '\n') {
            out += '\n' + indent;
            used = indent.size(), line_start = true, ++i;
            continue;
        }
        if (text[i] == ' ') {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < text.size() && text[end] != ' ' && text[end] != '\n')
            ++end;
        const std::string_view word = text.substr(i, end - i);
        if (!line_start && used + 1 + word.size() > width) {
            out += '\n' + indent;
            used = indent.size(), line_start = true;
        }
        if (!line_start) out += ' ', ++used;
        out += word;
        used += word.size(), line_start = false, i = end;
    }
    return out;
}

class WrappedHelp final : public CLI::Formatter {
  public:
    std::string make_option(const CLI::Option* opt, bool positional) const override {
        return entry(make_option_name(opt, positional) + make_option_opts(opt),
                     make_option_desc(opt));
    }
    std::string make_subcommand(const CLI::App* sub) const override {
        return entry(sub->get_display_name(true), sub->get_description());
    }
    std::string make_description(const CLI::App* app) const override {
        const std::string d = CLI::Formatter::make_description(app);
        return d.empty() ? d : wrap_words(d, help_width(), 0, "") + "\n";
    }

  private:
    // "  NAME OPTS" in the left column, the description in the right one; a left part that
    // does not fit its column puts the description on the next line.
    std::string entry(const std::string& left, const std::string& desc) const {
        const size_t width = help_width(), col = get_column_width();
        std::string out = "  " + wrap_words(left, width, 2, "      ");
        const size_t last = out.size() - std::min(out.size(), out.rfind('\n') + 1);
        if (!desc.empty()) {
            const std::string indent(col, ' ');
            if (out.find('\n') == std::string::npos && last < col)
                out += std::string(col - last, ' ');
            else
                out += '\n' + indent;
            out += wrap_words(desc, width, col, indent);
        }
        return out + "\n";
    }
};

}  // namespace

size_t help_width() {
    const char* c = std::getenv("COLUMNS");
    const long n = c ? std::strtol(c, nullptr, 10) : 0;
    if (n <= 0) return kMaxWidth;
    return std::clamp(static_cast<size_t>(n), kMinWidth, kMaxWidth);
}

void use_wrapped_help(CLI::App& app) {
    app.formatter(std::make_shared<WrappedHelp>());
}

}  // namespace moe
