// A minimal HTTP server (Boost.Beast) for Prometheus: GET /metrics and GET /healthz.
// Each connection serves one request and closes; requests are small and bounded in time.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace moe {

class MetricsServer {
  public:
    // `render` produces the /metrics body when scraped.
    MetricsServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& ep,
                  std::function<std::string()> render);
    ~MetricsServer();
    void start();
    void stop();
    uint16_t port() const;

  private:
    void accept();

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::function<std::string()> render_;
    std::shared_ptr<int> open_;  // sessions hold a copy: use_count is the open connections
};

}  // namespace moe
