// Plain-text output: aligned tables for people, CSV for spreadsheets, number formatting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class Table {
  public:
    explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    // Columns separated by two spaces; cells that look numeric are right-aligned.
    std::string render(std::string_view indent = "") const;
    std::string csv() const;

  private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

namespace fmt_num {
std::string fixed(double v, int decimals);               // "nan"/"inf" spelled as "-" / "inf"
std::string sig(double v, int significant);              // general format with n significant digits
std::string percent(double fraction, int decimals = 2);  // 0.0228 -> "2.28%"
std::string integer(uint64_t v);
}  // namespace fmt_num

std::string csv_escape(std::string_view s);

}  // namespace moe
