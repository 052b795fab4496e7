#include "daemon/tls_context.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <openssl/ssl.h>
#include <boost/asio/ip/address.hpp>

namespace moe {

namespace ssl = boost::asio::ssl;

namespace {
// Opening first gives "No such file or directory" rather than OpenSSL's "system lib".
void must_read(const char* flag, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error(std::string("cannot read ") + flag + " " + path + ": " +
                                 std::strerror(errno));
}

template <class F>
void use(const char* flag, const std::string& path, F&& load) {
    must_read(flag, path);
    try {
        load();
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(std::string("cannot use ") + flag + " " + path + ": " +
                                 e.code().message());
    }
}
}  // namespace

std::shared_ptr<ssl::context> make_server_tls(const TlsFiles& f) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                     ssl::context::single_dh_use);
    // The protocol is one-way: no session tickets, so the daemon writes nothing after the
    // handshake, and a client closing right after its last record leaves no unread bytes
    // (which would make its kernel reset the connection and drop records in flight).
    SSL_CTX_set_num_tickets(ctx->native_handle(), 0);
    use("--tls-cert", f.cert, [&] { ctx->use_certificate_chain_file(f.cert); });
    // OpenSSL checks that the key belongs to the certificate loaded above.
    use("--tls-key", f.key, [&] { ctx->use_private_key_file(f.key, ssl::context::pem); });
    if (!f.client_ca.empty()) {
        use("--tls-client-ca", f.client_ca, [&] { ctx->load_verify_file(f.client_ca); });
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    return ctx;
}

std::string NetSecurity::describe() const {
    std::string s = !tls ? "plain TCP" : client_certs ? "TLS, client certificate required" : "TLS";
    return s + (tokens ? ", token required" : ", no token");
}

bool is_loopback_host(const std::string& host) {
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(host, ec);
    return !ec && addr.is_loopback();
}

std::string exposed_address(const std::vector<ListenSpec>& listens,
                            const std::optional<ListenSpec>& metrics, const NetSecurity& sec) {
    if (sec.tls) return "";
    // A token without TLS crosses the network in clear text: anyone on the path can use it.
    const char* fix = sec.tokens ? " is not loopback and not TLS: its token would travel in clear "
                                   "text; add --tls-cert/--tls-key, or accept that with "
                                   "--allow-insecure-remote"
                                 : " is not loopback: protect it with --tls-cert/--tls-key (and "
                                   "--auth-token-file), or accept anyone who can reach it with "
                                   "--allow-insecure-remote";
    for (const auto& l : listens)
        if (l.kind == ListenSpec::Kind::tcp && !is_loopback_host(l.host))
            return "--listen " + l.name() + fix;
    if (metrics && !is_loopback_host(metrics->host))
        return "--metrics " + metrics->name().substr(6) + fix;
    return "";
}

}  // namespace moe
