#include "daemon/metrics_server.hpp"

#include <chrono>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace moe {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr long kMaxOpen = 16;

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket s, const std::function<std::string()>& render, std::shared_ptr<int> token)
        : stream_(std::move(s)), render_(render), token_(std::move(token)) {}

    void start() {
        parser_.body_limit(4096);
        stream_.expires_after(std::chrono::seconds(10));
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (!ec) self->respond();
                         });
    }

  private:
    void respond() {
        const auto& req = parser_.get();
        res_.version(req.version());
        res_.keep_alive(false);
        res_.set(http::field::server, "moescoped");
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            res_.result(http::status::method_not_allowed);
            res_.body() = "only GET\n";
        } else if (path == "/metrics") {
            res_.result(http::status::ok);
            res_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
            res_.body() = render_();
        } else if (path == "/healthz") {
            res_.result(http::status::ok);
            res_.set(http::field::content_type, "text/plain");
            res_.body() = "ok\n";
        } else {
            res_.result(http::status::not_found);
            res_.body() = "try /metrics or /healthz\n";
        }
        res_.prepare_payload();
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, size_t) {
            beast::error_code ignored;
            self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{8192};
    http::request_parser<http::string_body> parser_;
    http::response<http::string_body> res_;
    const std::function<std::string()>& render_;
    std::shared_ptr<int> token_;
};

}  // namespace

MetricsServer::MetricsServer(boost::asio::io_context& io, const tcp::endpoint& ep,
                             std::function<std::string()> render)
    : io_(io), acceptor_(io), render_(std::move(render)), open_(std::make_shared<int>(0)) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
}

MetricsServer::~MetricsServer() {
    stop();
}

uint16_t MetricsServer::port() const {
    return acceptor_.local_endpoint().port();
}

void MetricsServer::start() {
    accept();
}

void MetricsServer::stop() {
    beast::error_code ec;
    acceptor_.close(ec);
}

void MetricsServer::accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
        if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            if (open_.use_count() - 1 >= kMaxOpen) {
                beast::error_code ignored;
                s.close(ignored);  // too many scrapers at once
            } else {
                std::make_shared<Session>(std::move(s), render_, open_)->start();
            }
        }
        accept();
    });
}

}  // namespace moe
