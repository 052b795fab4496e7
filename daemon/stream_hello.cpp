#include "daemon/stream_hello.hpp"

#include <simdjson.h>

namespace moe {

namespace {
bool valid_stream_id(std::string_view id) {
    if (id.empty() || id.size() > Hello::kMaxStreamId) return false;
    for (char c : id)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '/' || c == '@' || c == '+' || c == '-'))
            return false;
    return true;
}
}  // namespace

Hello parse_hello(std::string_view line) {
    Hello h;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > Hello::kMaxLine) return h;
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    std::string_view type;
    if (parser.parse(line.data(), line.size()).get(obj) || obj["type"].get(type) || type != "hello")
        return h;
    bool ack = false;
    if (obj["ack"].get(ack) || !ack) {
        h.kind = Hello::Kind::plain;
        return h;
    }
    h.kind = Hello::Kind::bad;
    std::string_view id;
    if (obj["stream"].get(id) || !valid_stream_id(id)) {
        h.error = "hello: \"stream\" must be 1 to 128 characters of A-Z a-z 0-9 . _ : / @ + -";
        return h;
    }
    if (simdjson::dom::element next; !obj["next"].get(next)) {
        uint64_t n = 0;
        if (next.get(n) || n == 0) {
            h.error = "hello: \"next\" must be a line number (1 or more)";
            return h;
        }
        h.next = n;
    }
    h.kind = Hello::Kind::acked;
    h.stream.assign(id);
    return h;
}

std::string ack_line(std::string_view stream, uint64_t seq, std::optional<uint64_t> next) {
    std::string out = "{\"type\":\"ack\",\"stream\":\"";
    out.append(stream);  // a valid id needs no escaping
    out += "\",\"seq\":" + std::to_string(seq);
    if (next) out += ",\"next\":" + std::to_string(*next);
    return out + "}\n";
}

std::string error_line(std::string_view reason) {
    std::string out = "{\"type\":\"error\",\"reason\":\"";
    for (char c : reason) {  // fixed texts: only quotes need escaping
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"}\n";
}

}  // namespace moe
