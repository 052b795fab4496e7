// The first line of a stream connection that asks for acknowledgements (docs/OPERATIONS.md
// "Acknowledged streams"): {"type": "hello", "stream": ID, "ack": true} with an optional "next": N,
// the number of the next line the client sends (default, and at least: the one after the last
// committed, which the reply acknowledges).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moe {

struct Hello {
    enum class Kind {
        not_hello,  // any other line: a plain stream, the line is data
        plain,      // a hello without "ack": true: a plain stream, the line is dropped
        acked,
        bad,  // a hello with a bad stream id or "next": refused with `error`
    };
    Kind kind = Kind::not_hello;
    std::string stream;
    std::optional<uint64_t> next;
    std::string error;  // a fixed text (the line itself is never echoed)

    // A stream id: 1 to kMaxStreamId characters of A-Z a-z 0-9 . _ : / @ + -
    static constexpr size_t kMaxStreamId = 128;
    // A first line longer than this is no hello.
    static constexpr size_t kMaxLine = 4096;
};

Hello parse_hello(std::string_view line);

// The daemon's reply lines: {"type":"ack","stream":ID,"seq":N} (with "next" after a hello)
// and {"type":"error","reason":...}.
std::string ack_line(std::string_view stream, uint64_t seq,
                     std::optional<uint64_t> next = std::nullopt);
std::string error_line(std::string_view reason);

}  // namespace moe
