// Parses --listen values: tcp://HOST:PORT, tcp://[v6]:PORT, tcp://:PORT (loopback), unix:PATH,
// each optionally followed by =TAG.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace moe {

struct ListenSpec {
    enum class Kind { tcp, unix_socket } kind = Kind::tcp;
    std::string host;  // tcp: address literal ("127.0.0.1", "::1", "0.0.0.0")
    uint16_t port = 0;
    std::string path;  // unix
    std::string tag;
    bool host_given = false;  // an explicit address (else loopback)

    std::string name() const;  // "tcp://127.0.0.1:7070", "unix:/run/moe.sock"
};

// Returns the spec, or nullopt with `error` set to a one-line reason.
std::optional<ListenSpec> parse_listen_spec(const std::string& text, std::string& error);

}  // namespace moe
