#include "cli/json_writer.hpp"

#include <charconv>
#include <cmath>

#include "parsers/utf8.hpp"

namespace moe {

void JsonWriter::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) out_ += ',';
        first_.back() = false;
    }
}

JsonWriter& JsonWriter::begin_object() {
    separate();
    out_ += '{';
    first_.push_back(true);
    return *this;
}
JsonWriter& JsonWriter::end_object() {
    out_ += '}';
    first_.pop_back();
    return *this;
}
JsonWriter& JsonWriter::begin_array() {
    separate();
    out_ += '[';
    first_.push_back(true);
    return *this;
}
JsonWriter& JsonWriter::end_array() {
    out_ += ']';
    first_.pop_back();
    return *this;
}
JsonWriter& JsonWriter::key(std::string_view k) {
    separate();
    escape(out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
}

void JsonWriter::escape(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            // JSON is UTF-8: a byte that does not start a well-formed character becomes
            // U+FFFD, so one binary byte in a log line cannot spoil the whole document.
            const size_t n = utf8::sequence_length(s, i);
            if (n == 0) {
                out += "\xef\xbf\xbd";
            } else {
                out.append(s.substr(i, n));
                i += n - 1;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

JsonWriter& JsonWriter::value(std::string_view s) {
    separate();
    escape(out_, s);
    return *this;
}
JsonWriter& JsonWriter::value(double d) {
    if (!std::isfinite(d)) return null();
    separate();
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, d);
    out_.append(buf, res.ptr);
    return *this;
}
JsonWriter& JsonWriter::value(int64_t i) {
    separate();
    out_ += std::to_string(i);
    return *this;
}
JsonWriter& JsonWriter::value(uint64_t u) {
    separate();
    out_ += std::to_string(u);
    return *this;
}
JsonWriter& JsonWriter::value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
}
JsonWriter& JsonWriter::null() {
    separate();
    out_ += "null";
    return *this;
}

}  // namespace moe
