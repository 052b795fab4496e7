#include "daemon/metrics_server.hpp"

#include <optional>

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace moe {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

// What the server's list of open connections needs of one, plain or TLS.
class MetricsSession {
  public:
    virtual ~MetricsSession() = default;
    virtual bool sending_body() const = 0;
    virtual void evict() = 0;
};

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;

// One of the MetricsServer::kMaxWriters places of sessions sending the /metrics body, held
// until the session ends.
class WriterSlot {
  public:
    explicit WriterSlot(size_t& writers) : writers_(writers) { ++writers_; }
    ~WriterSlot() { --writers_; }
    WriterSlot(const WriterSlot&) = delete;
    WriterSlot& operator=(const WriterSlot&) = delete;

  private:
    size_t& writers_;
};

template <class Stream>
class BasicMetricsSession : public MetricsSession,
                            public std::enable_shared_from_this<BasicMetricsSession<Stream>> {
  public:
    BasicMetricsSession(Stream stream, const MetricsServer::Render& render,
                        const AuthTokens* tokens, size_t& writers)
        : stream_(std::move(stream)), render_(render), tokens_(tokens), writers_(writers) {}

    void start() {
        parser_.body_limit(4096);
        parser_.header_limit(8192);
        beast::get_lowest_layer(stream_).expires_after(MetricsServer::kRequestTimeout);
        if constexpr (std::is_same_v<Stream, TlsStream>) {
            stream_.async_handshake(boost::asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](beast::error_code ec) {
                                        if (!ec) self->read();
                                    });
        } else {
            read();
        }
    }
    bool sending_body() const override { return slot_.has_value(); }
    void evict() override {
        beast::error_code ignored;
        beast::get_lowest_layer(stream_).socket().close(ignored);
    }

  private:
    void read() {
        http::async_read(stream_, buffer_, parser_,
                         [self = this->shared_from_this()](beast::error_code ec, size_t) {
                             if (!ec) self->respond();
                         });
    }
    // With --auth-token-file every path needs `Authorization: Bearer TOKEN`.
    bool authorized(const http::request<http::empty_body>& req) const {
        if (!tokens_) return true;
        const auto it = req.find(http::field::authorization);
        if (it == req.end()) return false;
        const auto token = bearer_token(std::string_view(it->value().data(), it->value().size()));
        return token && tokens_->accepts(*token);
    }

    void respond() {
        const auto& req = parser_.get();
        const std::string_view target(req.target().data(), req.target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        http::status status = http::status::ok;
        const char* type = "text/plain";
        const bool allowed = authorized(req);
        if (!allowed) {
            status = http::status::unauthorized;
            body_ = std::make_shared<const std::string>(
                "send Authorization: Bearer TOKEN (a token of --auth-token-file)\n");
        } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
            status = http::status::method_not_allowed;
            body_ = std::make_shared<const std::string>("only GET and HEAD\n");
        } else if (path == "/metrics" && req.method() == http::verb::get &&
                   writers_ >= MetricsServer::kMaxWriters) {
            status = http::status::service_unavailable;
            body_ = std::make_shared<const std::string>(
                "too many scrapes in progress; retry in a second\n");
        } else if (path == "/metrics") {
            type = "text/plain; version=0.0.4; charset=utf-8";
            body_ = render_();
            if (req.method() == http::verb::get) slot_.emplace(writers_);
        } else if (path == "/healthz") {
            body_ = std::make_shared<const std::string>("ok\n");
        } else {
            status = http::status::not_found;
            body_ = std::make_shared<const std::string>("try /metrics or /healthz\n");
        }
        // The headers, then the shared rendering itself in chunks: a slow scraper pins no copy.
        auto res = std::make_shared<http::response<http::empty_body>>(status, req.version());
        res->keep_alive(false);
        res->set(http::field::server, "moescoped");
        res->set(http::field::content_type, type);
        if (!allowed) res->set(http::field::www_authenticate, "Bearer realm=\"moescope\"");
        if (status == http::status::service_unavailable) res->set(http::field::retry_after, "1");
        res->content_length(body_->size());
        head_only_ = req.method() == http::verb::head;  // the same headers, no body
        started_ = Clock::now();
        beast::get_lowest_layer(stream_).expires_after(MetricsServer::kWriteGrace);
        auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
        http::async_write_header(
            stream_, *sr, [self = this->shared_from_this(), res, sr](beast::error_code ec, size_t) {
                if (!ec) self->write_body(0);
            });
    }

    // The deadline counts bytes, not silence: the body up to byte b must be through by
    // kWriteGrace + b / kMinWriteRate after the response began, so a scraper that stalls
    // (or reads a byte now and then) is closed once it falls behind.
    void write_body(size_t sent) {
        constexpr size_t kChunk = 64 << 10;
        if (head_only_ || sent >= body_->size()) return finish();
        const size_t n = std::min(kChunk, body_->size() - sent);
        const auto due =
            started_ + MetricsServer::kWriteGrace +
            std::chrono::microseconds((sent + n) * 1'000'000 / MetricsServer::kMinWriteRate);
        beast::get_lowest_layer(stream_).expires_at(due);
        boost::asio::async_write(
            stream_, boost::asio::buffer(body_->data() + sent, n),
            [self = this->shared_from_this(), sent, n](beast::error_code ec, size_t) {
                if (!ec) self->write_body(sent + n);
            });
    }

    void finish() {
        slot_.reset();
        beast::get_lowest_layer(stream_).expires_after(MetricsServer::kWriteGrace);
        if constexpr (std::is_same_v<Stream, TlsStream>) {
            // close_notify, bounded by the grace; then the socket closes with us.
            stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
        } else {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    Stream stream_;
    beast::flat_buffer buffer_{8192};
    http::request_parser<http::empty_body> parser_;
    const MetricsServer::Render& render_;
    const AuthTokens* tokens_;
    size_t& writers_;
    std::optional<WriterSlot> slot_;  // while sending the /metrics body
    std::shared_ptr<const std::string> body_;
    bool head_only_ = false;
    Clock::time_point started_;
};

}  // namespace

MetricsServer::MetricsServer(boost::asio::io_context& io, const tcp::endpoint& ep, Render render,
                             NetSecurity security)
    : acceptor_(io), render_(std::move(render)), security_(std::move(security)) {
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

// At most kMaxWriters of the kMaxOpen sessions send a body, so one is always evictable.
bool MetricsServer::make_room() {
    sessions_.remove_if([](const auto& w) { return w.expired(); });
    if (sessions_.size() < kMaxOpen) return true;
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        auto s = it->lock();
        if (s && !s->sending_body()) {  // a request still coming, a short answer: the oldest goes
            s->evict();
            sessions_.erase(it);
            return true;
        }
    }
    return false;
}

std::shared_ptr<MetricsSession> MetricsServer::start_session(tcp::socket s) {
    const AuthTokens* tokens = security_.tokens.get();
    beast::error_code ignored;
    s.set_option(boost::asio::socket_base::send_buffer_size(kSendBuffer), ignored);
    if (security_.tls) {
        auto session = std::make_shared<BasicMetricsSession<TlsStream>>(
            TlsStream(beast::tcp_stream(std::move(s)), *security_.tls), render_, tokens, writers_);
        session->start();
        return session;
    }
    auto session = std::make_shared<BasicMetricsSession<beast::tcp_stream>>(
        beast::tcp_stream(std::move(s)), render_, tokens, writers_);
    session->start();
    return session;
}

void MetricsServer::accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
        if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            if (!make_room()) {
                beast::error_code ignored;
                s.close(ignored);  // every connection is busy answering a scrape
            } else {
                sessions_.push_back(start_session(std::move(s)));
            }
        }
        accept();
    });
}

}  // namespace moe
