#include "daemon/auth_gate.hpp"

#include <algorithm>

#include <simdjson.h>

namespace moe {

namespace {
enum class AuthLine { not_auth, no_token, token };

// Whether `line` is an auth record; its token goes to `token`.
AuthLine parse_auth_line(std::string_view line, std::string& token) {
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(line.data(), line.size()).get(obj)) return AuthLine::not_auth;
    std::string_view type;
    if (obj["type"].get(type) || type != "auth") return AuthLine::not_auth;
    std::string_view t;
    if (obj["token"].get(t)) return AuthLine::no_token;
    token.assign(t);
    return AuthLine::token;
}
}  // namespace

AuthGate::State AuthGate::refuse(std::string_view why) {
    reason_ = why;
    buffered_.clear();
    return state_ = State::refused;
}

AuthGate::State AuthGate::feed(std::string_view bytes, std::string& forward) {
    if (state_ != State::pending) return state_;
    const size_t before = buffered_.size();
    const size_t room = kMaxAuthLine + 1 - std::min(before, kMaxAuthLine + 1);
    const size_t taken = std::min(room, bytes.size());
    buffered_.append(bytes.substr(0, taken));
    const auto nl = buffered_.find('\n');
    if (nl == std::string::npos && buffered_.size() <= kMaxAuthLine) return state_;
    if (nl == std::string::npos) {  // no line ended soon enough: not an auth line
        if (tokens_) return refuse("no auth line: the first 4096 bytes hold no complete line");
        forward = std::move(buffered_);
        forward.append(bytes.substr(taken));
        buffered_.clear();
        return state_ = State::open;
    }
    std::string_view line(buffered_.data(), nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string token;
    const AuthLine kind = parse_auth_line(line, token);
    if (tokens_) {
        const bool ok = kind == AuthLine::token && tokens_->accepts(token);
        std::fill(token.begin(), token.end(), '\0');
        std::fill(buffered_.begin(), buffered_.begin() + nl, '\0');
        if (!ok)
            return refuse(kind == AuthLine::not_auth   ? "first line is not an auth record"
                          : kind == AuthLine::no_token ? "auth record without a token"
                                                       : "auth record with a wrong token");
    }
    // Authenticated, or no token required: the auth line (if any) is dropped.
    forward = kind == AuthLine::not_auth ? buffered_ : buffered_.substr(nl + 1);
    forward.append(bytes.substr(taken));
    buffered_.clear();
    return state_ = State::open;
}

bool AuthGate::end(std::string& forward) {
    if (state_ != State::pending) return false;
    if (!tokens_) {  // an unterminated first line goes on (to be counted as partial)
        forward = std::move(buffered_);
        buffered_.clear();
        state_ = State::open;
        return false;
    }
    if (buffered_.empty()) return false;  // connected and left without a byte
    refuse("connection closed before its auth line ended");
    return true;
}

}  // namespace moe
