// A minimal HTTP server (Boost.Beast) for Prometheus: GET/HEAD /metrics and /healthz.
// Each connection serves one request and closes. Bounded so that scrapers cannot hurt
// ingestion or /healthz (README "Guarantees"): the body is rendered by the caller at most
// once per flush and shared by every scraper (no copy per connection); a request must
// arrive within kRequestTimeout; when kMaxOpen connections are open, the oldest one still
// sending its request is closed to make room. With TLS the connection is HTTPS; with tokens
// every request needs `Authorization: Bearer TOKEN` (else 401), docs/ARCHITECTURE.md
// "Remote access".
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
    static constexpr std::chrono::seconds kRequestTimeout{5};
    static constexpr std::chrono::seconds kWriteTimeout{30};

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
    bool make_room();  // false: every open connection is busy answering
    std::shared_ptr<MetricsSession> start_session(boost::asio::ip::tcp::socket s);

    boost::asio::ip::tcp::acceptor acceptor_;
    Render render_;
    NetSecurity security_;
    std::list<std::weak_ptr<MetricsSession>> sessions_;  // oldest first
};

}  // namespace moe
