// The first line of a stream connection (docs/ARCHITECTURE.md "Remote access"). With
// --auth-token-file it must be {"type": "auth", "token": "..."} with a known token: until
// then nothing the connection sends reaches the aggregates or the counters, and anything
// else refuses the connection. Without tokens an auth line is dropped unparsed (a client
// configured with a token must not leave it in a reject sample) and everything else flows
// on. The reasons are fixed texts: the line itself, which may hold a secret, is never kept.
#pragma once

#include <string>
#include <string_view>

#include "daemon/auth_tokens.hpp"

namespace moe {

class AuthGate {
  public:
    // An auth line is short; a first line longer than this is not one.
    static constexpr size_t kMaxAuthLine = 4096;
    enum class State { pending, open, refused };

    explicit AuthGate(const AuthTokens* tokens) : tokens_(tokens) {}

    // Bytes received while pending. When the gate opens, `forward` receives the bytes that
    // follow the auth line (or, without one, every byte buffered) for the ingest.
    State feed(std::string_view bytes, std::string& forward);
    // The stream ended while pending: true when that is an authentication failure (tokens
    // are required and part of a first line came), with reason() set; else `forward` gets
    // what is left for the ingest (without tokens, an unterminated first line).
    bool end(std::string& forward);
    State state() const { return state_; }
    std::string_view reason() const { return reason_; }

  private:
    State refuse(std::string_view why);

    const AuthTokens* tokens_;
    State state_ = State::pending;
    std::string buffered_;
    std::string_view reason_;
};

}  // namespace moe
