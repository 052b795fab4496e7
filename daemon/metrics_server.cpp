#include "daemon/metrics_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace moe {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

class MetricsSession : public std::enable_shared_from_this<MetricsSession> {
  public:
    MetricsSession(tcp::socket s, const MetricsServer::Render& render)
        : stream_(std::move(s)), render_(render) {}

    void start() {
        parser_.body_limit(4096);
        parser_.header_limit(8192);
        stream_.expires_after(MetricsServer::kRequestTimeout);
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (!ec) self->respond();
                         });
    }
    bool reading() const { return reading_; }
    void evict() {
        beast::error_code ignored;
        stream_.socket().close(ignored);
    }

  private:
    void respond() {
        reading_ = false;
        const auto& req = parser_.get();
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        http::status status = http::status::ok;
        const char* type = "text/plain";
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            status = http::status::method_not_allowed;
            body_ = std::make_shared<const std::string>("only GET and HEAD\n");
        } else if (path == "/metrics") {
            type = "text/plain; version=0.0.4; charset=utf-8";
            body_ = render_();
        } else if (path == "/healthz") {
            body_ = std::make_shared<const std::string>("ok\n");
        } else {
            status = http::status::not_found;
            body_ = std::make_shared<const std::string>("try /metrics or /healthz\n");
        }
        // The body is the shared rendering itself (span_body): a slow scraper pins no copy.
        auto res =
            std::make_shared<http::response<http::span_body<const char>>>(status, req.version());
        res->keep_alive(false);
        res->set(http::field::server, "moescoped");
        res->set(http::field::content_type, type);
        res->content_length(body_->size());
        if (req.method() != http::verb::head) res->body() = {body_->data(), body_->size()};
        stream_.expires_after(MetricsServer::kWriteTimeout);
        // HEAD: the same headers (Content-Length included), no body.
        auto sr = std::make_shared<http::response_serializer<http::span_body<const char>>>(*res);
        auto done = [self = shared_from_this(), res, sr](beast::error_code, size_t) {
            beast::error_code ignored;
            self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        };
        if (req.method() == http::verb::head)
            http::async_write_header(stream_, *sr, std::move(done));
        else
            http::async_write(stream_, *sr, std::move(done));
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{8192};
    http::request_parser<http::empty_body> parser_;
    const MetricsServer::Render& render_;
    std::shared_ptr<const std::string> body_;
    bool reading_ = true;
};

MetricsServer::MetricsServer(boost::asio::io_context& io, const tcp::endpoint& ep, Render render)
    : acceptor_(io), render_(std::move(render)) {
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

bool MetricsServer::make_room() {
    sessions_.remove_if([](const auto& w) { return w.expired(); });
    if (sessions_.size() < kMaxOpen) return true;
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        auto s = it->lock();
        if (s && s->reading()) {  // half-sent (or slowly sent) request: the oldest goes
            s->evict();
            sessions_.erase(it);
            return true;
        }
    }
    return false;
}

void MetricsServer::accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
        if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            if (!make_room()) {
                beast::error_code ignored;
                s.close(ignored);  // every connection is busy answering a scrape
            } else {
                auto session = std::make_shared<MetricsSession>(std::move(s), render_);
                sessions_.push_back(session);
                session->start();
            }
        }
        accept();
    });
}

}  // namespace moe
