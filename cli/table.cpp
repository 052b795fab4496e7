#include "cli/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace moe {

namespace {
bool numeric_looking(const std::string& s) {
    if (s.empty()) return false;
    const char c = s[0];
    return (c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && s.size() > 1) ||
           s == "-" || s == "inf";
}
}  // namespace

std::string Table::render(std::string_view indent) const {
    std::vector<size_t> width(headers_.size(), 0);
    for (size_t c = 0; c < headers_.size(); ++c)
        width[c] = headers_[c].size();
    for (const auto& r : rows_)
        for (size_t c = 0; c < r.size() && c < width.size(); ++c)
            width[c] = std::max(width[c], r[c].size());

    std::vector<bool> right(headers_.size(), true);
    for (const auto& r : rows_)
        for (size_t c = 0; c < r.size() && c < right.size(); ++c)
            if (!numeric_looking(r[c])) right[c] = false;

    std::string out;
    auto emit = [&](const std::vector<std::string>& cells) {
        std::string line(indent);
        for (size_t c = 0; c < headers_.size(); ++c) {
            const std::string& cell = c < cells.size() ? cells[c] : std::string();
            const size_t pad = width[c] - std::min(width[c], cell.size());
            if (c) line += "  ";
            if (right[c]) line.append(pad, ' ');
            line += cell;
            if (!right[c] && c + 1 < headers_.size()) line.append(pad, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line;
        out += '\n';
    };
    emit(headers_);
    for (const auto& r : rows_)
        emit(r);
    return out;
}

std::string csv_escape(std::string_view s) {
    if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string Table::csv() const {
    std::string out;
    auto emit = [&](const std::vector<std::string>& cells) {
        for (size_t c = 0; c < cells.size(); ++c) {
            if (c) out += ',';
            out += csv_escape(cells[c]);
        }
        out += '\n';
    };
    emit(headers_);
    for (const auto& r : rows_)
        emit(r);
    return out;
}

namespace fmt_num {

std::string fixed(double v, int decimals) {
    if (std::isnan(v)) return "-";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string sig(double v, int significant) {
    if (std::isnan(v)) return "-";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", significant, v);
    return buf;
}

std::string percent(double fraction, int decimals) {
    if (std::isnan(fraction)) return "-";
    return fixed(fraction * 100.0, decimals) + "%";
}

std::string integer(uint64_t v) {
    return std::to_string(v);
}

}  // namespace fmt_num

}  // namespace moe
