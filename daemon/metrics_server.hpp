// A minimal HTTP server (Boost.Beast) for Prometheus: GET/HEAD /metrics and /healthz.
// Each connection serves one request and closes. Bounded so that scrapers cannot hurt
// ingestion or /healthz (docs/GUARANTEES.md): the body is rendered by the caller at most
// once per flush and shared by every scraper (no copy per connection); a request must
// arrive within kRequestTimeout; at most kMaxWriters connections are sent the /metrics body
// at once (others get 503), each within a deadline that grows with the bytes sent
// (kWriteGrace + size / kMinWriteRate), not with silence; when kMaxOpen connections are open,
// the oldest one not sending a body is closed to make room, so /healthz always gets in. With
// TLS the connection is HTTPS; with tokens every request needs `Authorization: Bearer TOKEN`
// (else 401), docs/ARCHITECTURE.md "Remote access".
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "daemon/tls_context.hpp"

namespace moe {

class MetricsSession;

class MetricsServer {
  public:
    static constexpr size_t kMaxOpen = 64;
    static constexpr size_t kMaxWriters = 8;
    static constexpr std::chrono::seconds kRequestTimeout{5};
    static constexpr std::chrono::seconds kWriteGrace{5};
    static constexpr size_t kMinWriteRate = 128 << 10;  // bytes per second
    // The kernel's send buffer of a connection: small, so that the bytes counted as sent are
    // near the bytes the scraper took (Linux doubles it).
    static constexpr int kSendBuffer = 128 << 10;

    using Render = std::function<std::shared_ptr<const std::string>()>;
    // `render` produces the /metrics body when scraped.
    MetricsServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& ep,
                  Render render, NetSecurity security = {});
    ~MetricsServer();
    void start();
    void stop();
    uint16_t port() const;

  private:
    void accept();
    bool make_room();  // false: every open connection is sending a body
    std::shared_ptr<MetricsSession> start_session(boost::asio::ip::tcp::socket s);

    boost::asio::ip::tcp::acceptor acceptor_;
    Render render_;
    NetSecurity security_;
    std::list<std::weak_ptr<MetricsSession>> sessions_;  // oldest first
    size_t writers_ = 0;                                 // sessions sending the /metrics body
};

}  // namespace moe
