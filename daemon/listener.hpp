// Stream listeners (TCP and Unix sockets): every connection gets its own line splitter and
// parser state, all of a listener's connections share its counters. Memory is bounded per
// connection (read buffer + --max-line-bytes) and by a cap on connections; idle connections
// are closed. A connection that closes mid-line loses only that line (a partial_line reject).
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ingest/stream_ingest.hpp"
#include "daemon/source.hpp"
#include "daemon/wall_clock.hpp"

namespace moe {

struct StreamOptions {
    Format format = Format::auto_detect;
    size_t max_line = LineSplitter::kDefaultMaxLine;
    size_t max_connections = 64;
    int idle_timeout_s = 300;
    size_t read_chunk = 64u << 10;
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
              buf_(owner.opts_.read_chunk) {}

        void start() {
            arm_idle();
            read();
        }
        void close() {
            if (!owner_) return;
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
            socket_.async_read_some(
                boost::asio::buffer(buf_), [self](const boost::system::error_code& ec, size_t n) {
                    if (!self->owner_) return;
                    if (n > 0) {
                        self->ingest_.set_arrival_time(wall_clock_seconds());
                        self->ingest_.feed(std::string_view(self->buf_.data(), n));
                        self->arm_idle();
                    }
                    if (ec) return self->close();
                    self->read();
                });
        }
        void arm_idle() {
            if (!owner_ || owner_->opts_.idle_timeout_s <= 0) return;
            idle_.expires_after(std::chrono::seconds(owner_->opts_.idle_timeout_s));
            auto self = this->shared_from_this();
            idle_.async_wait([self](const boost::system::error_code& ec) {
                if (ec || !self->owner_) return;
                spdlog::info("{}: closing a connection idle for {} s", self->owner_->stats_.name,
                             self->owner_->opts_.idle_timeout_s);
                self->close();
            });
        }

        Listener* owner_;
        typename Protocol::socket socket_;
        boost::asio::steady_timer idle_;
        StreamIngest ingest_;
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
