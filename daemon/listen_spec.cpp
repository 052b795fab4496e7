#include "daemon/listen_spec.hpp"

#include <charconv>

namespace moe {

std::string ListenSpec::name() const {
    if (kind == Kind::unix_socket) return "unix:" + path;
    const bool v6 = host.find(':') != std::string::npos;
    return "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<ListenSpec> parse_listen_spec(const std::string& text, std::string& error) {
    ListenSpec s;
    std::string body = text;
    if (body.rfind("unix:", 0) == 0) {
        // A path may itself contain '=', so the tag is what follows the last '='.
        const auto eq = body.rfind('=');
        if (eq != std::string::npos && eq > 5) s.tag = body.substr(eq + 1), body.resize(eq);
        s.kind = ListenSpec::Kind::unix_socket;
        s.path = body.substr(5);
        if (s.path.empty()) {
            error = "unix: needs a socket path, e.g. unix:/run/moescope.sock";
            return std::nullopt;
        }
        if (s.path.size() >= 108) {
            error = "unix socket path too long (max 107 bytes): " + s.path;
            return std::nullopt;
        }
        return s;
    }
    if (body.rfind("tcp://", 0) != 0) {
        error = "listen address must start with tcp:// or unix: (got '" + text + "')";
        return std::nullopt;
    }
    if (const auto eq = body.find('='); eq != std::string::npos)
        s.tag = body.substr(eq + 1), body.resize(eq);
    std::string hp = body.substr(6);
    std::string port;
    if (!hp.empty() && hp[0] == '[') {
        const auto close = hp.find(']');
        if (close == std::string::npos || close + 1 >= hp.size() || hp[close + 1] != ':') {
            error = "bad IPv6 listen address '" + text + "' (use tcp://[::1]:PORT)";
            return std::nullopt;
        }
        s.host = hp.substr(1, close - 1);
        port = hp.substr(close + 2);
    } else if (const auto colon = hp.rfind(':'); colon != std::string::npos) {
        s.host = hp.substr(0, colon);
        port = hp.substr(colon + 1);
    } else {
        port = hp;
    }
    s.host_given = !s.host.empty();
    if (s.host.empty()) s.host = "127.0.0.1";
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p > 65535) {
        error = "bad port in listen address '" + text + "'";
        return std::nullopt;
    }
    s.port = static_cast<uint16_t>(p);
    return s;
}

}  // namespace moe
