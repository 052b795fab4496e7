// Stream listeners (TCP and Unix sockets): every connection gets its own line splitter and
// parser state, all of a listener's connections share its counters. Memory is bounded per
// connection (read buffer + --max-line-bytes) and by a cap on connections; idle connections
// are closed. A connection that closes mid-line loses only that line (a partial_line reject).
// TCP connections speak TLS when configured; the first line passes an AuthGate (a token
// when required) before anything is counted (docs/ARCHITECTURE.md "Remote access").
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/auth_gate.hpp"
#include "daemon/source.hpp"
#include "daemon/tls_context.hpp"
#include "daemon/wall_clock.hpp"
#include "ingest/stream_ingest.hpp"

namespace moe {

struct StreamOptions {
    Format format = Format::auto_detect;
    size_t max_line = LineSplitter::kDefaultMaxLine;
    size_t max_connections = 64;
    int idle_timeout_s = 300;
    size_t read_chunk = 64u << 10;
    NetSecurity security;  // TLS applies to TCP listeners, tokens to every listener
    // Until authenticated, a connection is closed after this long (if sooner than idle).
    int auth_timeout_s = 10;
};

template <class Protocol>
class Listener : public Source {
  public:
    using Endpoint = typename Protocol::endpoint;

    Listener(boost::asio::io_context& io, const Endpoint& ep, SourceStats restored, Aggregates& agg,
             StreamOptions opts)
        : io_(io), acceptor_(io), stats_(std::move(restored)), agg_(agg), opts_(opts) {
        acceptor_.open(ep.protocol());
        if constexpr (std::is_same_v<Protocol, boost::asio::ip::tcp>)
            acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
    }
    ~Listener() override { stop(); }

    void start() override { accept(); }
    void stop() override {
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (auto& c : std::set<std::shared_ptr<Connection>>(conns_))
            c->close();
        conns_.clear();
    }
    SourceStats& stats() override { return stats_; }
    Endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  private:
    class Connection : public std::enable_shared_from_this<Connection> {
      public:
        Connection(Listener& owner, typename Protocol::socket sock)
            : owner_(&owner),
              socket_(std::move(sock)),
              idle_(owner.io_),
              ingest_(owner.agg_, owner.stats_, owner.opts_.format, owner.opts_.max_line),
              gate_(owner.opts_.security.tokens.get()),
              buf_(owner.opts_.read_chunk) {
            if constexpr (std::is_same_v<Protocol, boost::asio::ip::tcp>)
                if (owner.opts_.security.tls) tls_.emplace(socket_, *owner.opts_.security.tls);
            ingest_.refuse_other_model();
        }

        void start() {
            arm_idle();
            if (!tls_) return read();
            auto self = this->shared_from_this();
            tls_->async_handshake(boost::asio::ssl::stream_base::server,
                                  [self](const boost::system::error_code& ec) {
                                      if (!self->owner_) return;
                                      if (!ec) {
                                          self->handshaken_ = true;
                                          self->arm_idle();
                                          return self->read();
                                      }
                                      // A bare connect-and-leave (a port probe) is no attempt.
                                      if (ec != boost::asio::error::eof &&
                                          ec != boost::asio::ssl::error::stream_truncated)
                                          self->refuse("TLS handshake failed: " + ec.message());
                                      self->close();
                                  });
        }
        void close() {
            if (!owner_) return;
            if (std::string rest; gate_.end(rest))
                refuse(std::string(gate_.reason()));
            else if (!rest.empty())
                ingest_.feed(rest);
            ingest_.finish();  // an unterminated last line is counted, never parsed
            boost::system::error_code ec;
            socket_.close(ec);
            idle_.cancel();
            Listener* o = owner_;
            owner_ = nullptr;
            o->conns_.erase(this->shared_from_this());
        }

      private:
        void read() {
            auto self = this->shared_from_this();
            auto on_read = [self](const boost::system::error_code& ec, size_t n) {
                if (!self->owner_) return;
                if (n > 0 && !self->received(std::string_view(self->buf_.data(), n))) return;
                if (ec) return self->close();
                self->read();
            };
            if (tls_)
                tls_->async_read_some(boost::asio::buffer(buf_), std::move(on_read));
            else
                socket_.async_read_some(boost::asio::buffer(buf_), std::move(on_read));
        }
        // false: the connection was refused (and closed).
        bool received(std::string_view bytes) {
            std::string passed;
            if (gate_.state() != AuthGate::State::open) {
                if (gate_.feed(bytes, passed) == AuthGate::State::refused) {
                    refuse(std::string(gate_.reason()));
                    close();
                    return false;
                }
                bytes = passed;
            }
            if (!bytes.empty()) {
                ingest_.set_arrival_time(wall_clock_seconds());
                ingest_.feed(bytes);
                if (ingest_.refused()) {  // another model's records (other_model): hang up
                    close();
                    return false;
                }
            }
            arm_idle();
            return true;
        }
        // One auth_failed reject; the sample is the gate's fixed reason, never the line.
        void refuse(const std::string& why) {
            owner_->stats_.add_reject(RejectReason::auth_failed, why);
            owner_->stats_.dirty = true;
            spdlog::debug("{}: refused a connection: {}", owner_->stats_.name, why);
        }
        void arm_idle() {
            if (!owner_) return;
            int limit = owner_->opts_.idle_timeout_s;
            const bool authenticating =
                (tls_ && !handshaken_) ||
                (gate_.state() != AuthGate::State::open && owner_->opts_.security.tokens);
            if (authenticating && (limit <= 0 || owner_->opts_.auth_timeout_s < limit))
                limit = owner_->opts_.auth_timeout_s;
            if (limit <= 0) return;
            idle_.expires_after(std::chrono::seconds(limit));
            auto self = this->shared_from_this();
            idle_.async_wait([self, limit](const boost::system::error_code& ec) {
                if (ec || !self->owner_) return;
                spdlog::info("{}: closing a connection idle for {} s", self->owner_->stats_.name,
                             limit);
                self->close();
            });
        }

        Listener* owner_;
        typename Protocol::socket socket_;
        std::optional<boost::asio::ssl::stream<typename Protocol::socket&>> tls_;
        boost::asio::steady_timer idle_;
        StreamIngest ingest_;
        AuthGate gate_;
        bool handshaken_ = false;  // TLS only
        std::vector<char> buf_;
    };

    void accept() {
        acceptor_.async_accept(
            [this](const boost::system::error_code& ec, typename Protocol::socket sock) {
                if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
                if (!ec) {
                    if (conns_.size() >= opts_.max_connections) {
                        ++stats_.connections_refused;
                        stats_.dirty = true;
                        if (stats_.connections_refused % 100 == 1)
                            spdlog::warn("{}: {} connections open (the limit); refusing more",
                                         stats_.name, conns_.size());
                        boost::system::error_code ignored;
                        sock.close(ignored);
                    } else {
                        ++stats_.connections;
                        stats_.dirty = true;
                        auto c = std::make_shared<Connection>(*this, std::move(sock));
                        conns_.insert(c);
                        c->start();
                    }
                }
                accept();
            });
    }

    boost::asio::io_context& io_;
    typename Protocol::acceptor acceptor_;
    SourceStats stats_;
    Aggregates& agg_;
    StreamOptions opts_;
    std::set<std::shared_ptr<Connection>> conns_;
};

using TcpListener = Listener<boost::asio::ip::tcp>;
using UnixListener = Listener<boost::asio::local::stream_protocol>;

}  // namespace moe
