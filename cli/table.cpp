#include "cli/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "parsers/utf8.hpp"

namespace moe {

namespace {
bool numeric_looking(const std::string& s) {
    if (s.empty()) return false;
    const char c = s[0];
    return (c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && s.size() > 1) ||
           s == "-" || s == "inf";
}
}  // namespace

std::string printable(std::string_view s) {
    return utf8::escaped(s);
}

std::string printable_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t from = 0;
    for (size_t nl; (nl = s.find('\n', from)) != std::string_view::npos; from = nl + 1) {
        out += printable(s.substr(from, nl - from));
        out += '\n';
    }
    return out + printable(s.substr(from));
}

bool plain_number(std::string_view s) {
    size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
        ++i, ++digits;
    if (i < s.size() && s[i] == '.') ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
        ++i, ++digits;
    if (digits == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        const size_t exp_start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9')
            ++i;
        if (i == exp_start) return false;
    }
    return i == s.size();
}

std::string csv_cell(std::string_view s) {
    std::string cell = printable(s);
    // A cell starting with = + - @ is a live formula in spreadsheets (CSV injection): a
    // leading quote makes it text. Plain numbers such as -1.5 stay numbers.
    if (!cell.empty() && std::string_view("=+-@").find(cell[0]) != std::string_view::npos &&
        !plain_number(cell))
        cell.insert(0, 1, '\'');
    return csv_escape(cell);
}

std::string Table::render(std::string_view indent) const {
    const Table shown = printable_copy();
    return shown.render_printable(indent);
}

Table Table::printable_copy() const {
    std::vector<std::string> headers;
    for (const auto& h : headers_)
        headers.push_back(printable(h));
    Table t(std::move(headers));
    for (const auto& r : rows_) {
        std::vector<std::string> row;
        for (const auto& cell : r)
            row.push_back(printable(cell));
        t.add(std::move(row));
    }
    return t;
}

std::string Table::render_printable(std::string_view indent) const {
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
            out += csv_cell(cells[c]);
        }
        out += '\n';
    };
    // Tidy layers (docs/FIGURES.md "Precision and nulls"): a `layer` column holds integers
    // only, so pandas and spreadsheets read it as a number; the all-layers row has an empty
    // layer and `scope` "global", every other row `scope` "layer".
    const auto layer = std::find(headers_.begin(), headers_.end(), "layer");
    if (layer == headers_.end()) {
        emit(headers_);
        for (const auto& r : rows_)
            emit(r);
        return out;
    }
    const auto at = static_cast<size_t>(layer - headers_.begin());
    const auto with_scope = [at](std::vector<std::string> cells, bool header) {
        if (at >= cells.size()) return cells;
        const bool global = !header && cells[at] == "all";
        if (global) cells[at].clear();
        cells.insert(cells.begin() + static_cast<ptrdiff_t>(at) + 1,
                     header ? "scope" : global ? "global" : "layer");
        return cells;
    };
    emit(with_scope(headers_, true));
    for (const auto& r : rows_)
        emit(with_scope(r, false));
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

std::string csv(double v) {
    return std::isnan(v) ? std::string() : sig(v, 6);
}

std::string csv(std::optional<int> v) {
    return v ? std::to_string(*v) : std::string();
}

}  // namespace fmt_num

std::string wrap(std::string_view first, std::string_view text, size_t width,
                 std::string_view indent) {
    std::string out, cur(first);
    bool has_word = false;  // on the current line, after its prefix
    size_t from = 0;
    while (from < text.size()) {
        size_t end = text.find(' ', from);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view word = text.substr(from, end - from);
        from = end + 1;
        if (word.empty()) continue;
        if (has_word && cur.size() + 1 + word.size() > width) {
            out += cur + "\n";
            cur = indent;
            has_word = false;
        }
        if (has_word) cur += ' ';
        cur += word;
        has_word = true;
    }
    return out + cur + "\n";
}

}  // namespace moe
