// The daemon's network protection (--tls-cert/--tls-key/--tls-client-ca, --auth-token-file),
// shared by the TCP listeners and the metrics endpoint. docs/ARCHITECTURE.md "Remote access".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "daemon/auth_tokens.hpp"
#include "daemon/listen_spec.hpp"

namespace moe {

struct TlsFiles {
    std::string cert;       // PEM certificate chain
    std::string key;        // PEM private key
    std::string client_ca;  // PEM CA bundle: clients must present a certificate it signed
};

// A TLS 1.2+ server context. Throws std::runtime_error with one line naming the flag and the
// file that cannot be read or used.
std::shared_ptr<boost::asio::ssl::context> make_server_tls(const TlsFiles& files);

struct NetSecurity {
    std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP
    bool client_certs = false;                       // mutual TLS
    std::shared_ptr<const AuthTokens> tokens;        // null: no token required

    bool any() const { return tls || tokens; }
    // "TLS, token required", "plain, no token", ... for the start-up log (never a secret).
    std::string describe() const;
};

// "" when every TCP address is loopback or speaks TLS, else one line naming the first
// exposed address and the flags that would protect it (a token alone would travel in clear
// text).
std::string exposed_address(const std::vector<ListenSpec>& listens,
                            const std::optional<ListenSpec>& metrics, const NetSecurity& sec);
bool is_loopback_host(const std::string& host);

}  // namespace moe
