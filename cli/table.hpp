// Plain-text output: aligned tables for people, CSV for spreadsheets, number formatting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class Table {
  public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    // Columns separated by two spaces; cells that look numeric are right-aligned. Control
    // characters in cells are shown escaped ("\x1b"), so a tag cannot drive the terminal.
    std::string render(std::string_view indent = "") const;
    // Control characters escaped as in render(); formula-looking cells (= + - @ first, not a
    // plain number) get a leading ' so spreadsheets show them as text.
    std::string csv() const;

  private:
    Table printable_copy() const;
    std::string render_printable(std::string_view indent) const;
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

namespace fmt_num {
std::string fixed(double v, int decimals);               // "nan"/"inf" spelled as "-" / "inf"
std::string sig(double v, int significant);              // general format with n significant digits
std::string percent(double fraction, int decimals = 2);  // 0.0228 -> "2.28%"
std::string integer(uint64_t v);
// CSV numbers (docs/FIGURES.md "Precision and nulls"): 6 significant digits, "" for null.
std::string csv(double v);
std::string csv(std::optional<int> v);  // "" when absent
}  // namespace fmt_num

// `text` broken at spaces into lines of at most `width` columns (a longer word keeps its own
// line): the first line starts with `first`, the others with `indent`; ends with a newline.
std::string wrap(std::string_view first, std::string_view text, size_t width,
                 std::string_view indent);

std::string csv_escape(std::string_view s);
// Control characters escaped: utf8::escaped().
std::string printable(std::string_view s);
// The same for a multi-line text, keeping its line breaks.
std::string printable_text(std::string_view s);
// One CSV cell: printable(), formula cells neutralised, quoted when needed.
std::string csv_cell(std::string_view s);

}  // namespace moe
