// Stream listeners (TCP and Unix sockets): every connection gets its own line splitter and
// parser state, all of a listener's connections share its counters. Memory is bounded per
// connection (read buffer + --max-line-bytes) and by a cap on connections; idle connections
// are closed. A connection that closes mid-line loses only that line (a partial_line reject).
// TCP connections speak TLS when configured; the first line passes an AuthGate (a token
// when required) before anything is counted (docs/ARCHITECTURE.md "Remote access"): within
// one deadline from the accept, and when the listener is full the oldest connection still
// authenticating is closed for a new one, so unauthenticated clients cannot keep others out.
// A first line (after it) that is a hello makes the connection an acknowledged stream
// (daemon/acked_streams.hpp): its lines go to that stream, and acknowledgements come back.
// stop() (SIGTERM) lets every connection read what its kernel buffer already holds.
#pragma once

#include <chrono>
#include <deque>
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
#include <boost/asio/write.hpp>

#include "analytics/wall_clock.hpp"
#include "daemon/acked_streams.hpp"
#include "daemon/auth_gate.hpp"
#include "daemon/source.hpp"
#include "daemon/tls_context.hpp"
#include "ingest/stream_ingest.hpp"

namespace moe {

struct StreamOptions {
    Format format = Format::auto_detect;
    size_t max_line = LineSplitter::kDefaultMaxLine;
    size_t max_connections = 64;
    int idle_timeout_s = 300;
    size_t read_chunk = 64u << 10;
    NetSecurity security;  // TLS applies to TCP listeners, tokens to every listener
    // Until authenticated, a connection is closed this long after its accept (if sooner than
    // idle), however slowly its auth line trickles in.
    int auth_timeout_s = 10;
};

template <class Protocol>
class Listener : public Source {
  public:
    using Endpoint = typename Protocol::endpoint;

    // `acks`: where hello lines attach acknowledged streams (nullptr: every stream is plain).
    Listener(boost::asio::io_context& io, const Endpoint& ep, SourceStats restored, Aggregates& agg,
             StreamOptions opts, AckedStreams* acks = nullptr)
        : io_(io), acceptor_(io), stats_(std::move(restored)), agg_(agg), opts_(opts), acks_(acks) {
        acceptor_.open(ep.protocol());
        if constexpr (std::is_same_v<Protocol, boost::asio::ip::tcp>)
            acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
    }
    ~Listener() override {
        stop();
        for (auto& c : std::set<std::shared_ptr<Connection>>(conns_))
            c->close();
    }

    void start() override { accept(); }
    // Each connection's pending operations end at once; its read handler then reads what
    // the kernel holds and closes it. The daemon's final commit is posted after this.
    void stop() override {
        boost::system::error_code ec;
        acceptor_.close(ec);
        stopping_ = true;
        for (auto& c : conns_)
            c->cancel();
    }
    SourceStats& stats() override { return stats_; }
    Endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  private:
    class Connection : public std::enable_shared_from_this<Connection>, private AckLink {
      public:
        Connection(Listener& owner, typename Protocol::socket sock)
            : owner_(&owner),
              socket_(std::move(sock)),
              idle_(owner.io_),
              ingest_(owner.agg_, owner.stats_, owner.opts_.format, owner.opts_.max_line),
              gate_(owner.opts_.security.tokens.get()),
              mode_(owner.acks_ ? Mode::first_line : Mode::plain),
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
                                      if (self->owner_->stopping_) return self->close();
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
            else
                first_ += rest;
            if (mode_ == Mode::acked) {
                owner_->acks_->detach(stream_, *this);  // the client resends what it lost
            } else {
                if (!first_.empty()) ingest_.feed(first_);  // an undecided first line
                ingest_.finish();  // an unterminated last line is counted, never parsed
            }
            boost::system::error_code ec;
            socket_.close(ec);
            idle_.cancel();
            Listener* o = owner_;
            owner_ = nullptr;
            o->conns_.erase(this->shared_from_this());
            o->stats_.open_connections = o->conns_.size();
        }
        void cancel() {
            boost::system::error_code ec;
            socket_.cancel(ec);
            idle_.cancel();
        }
        bool authenticating() const {
            return (tls_ && !handshaken_) ||
                   (gate_.state() != AuthGate::State::open && owner_->opts_.security.tokens);
        }
        std::chrono::steady_clock::time_point accepted() const { return accepted_; }

      private:
        enum class Mode { first_line, plain, acked };

        void read() {
            if (mode_ == Mode::acked && owner_->acks_->paused())
                return owner_->acks_->wait(*this);  // backpressure: resume() reads on
            if (closing_) return;
            reading_ = true;
            auto self = this->shared_from_this();
            auto on_read = [self](const boost::system::error_code& ec, size_t n) {
                self->reading_ = false;
                if (!self->owner_) return;
                if (n > 0 && !self->received(std::string_view(self->buf_.data(), n))) return;
                if (self->owner_->stopping_) return self->drain();
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
            if (!deliver(bytes)) return false;
            arm_idle();
            return true;
        }
        // Bytes past the auth gate: the first line decides whether the stream is plain or
        // acknowledged (a hello). false: the connection ends (another model's records).
        bool deliver(std::string_view bytes) {
            if (mode_ == Mode::first_line) {
                first_.append(bytes);
                const size_t nl = first_.find('\n');
                if (nl == std::string::npos && first_.size() <= Hello::kMaxLine) return true;
                const Hello h = nl == std::string::npos
                                    ? Hello{}
                                    : parse_hello(std::string_view(first_).substr(0, nl));
                const std::string all = std::exchange(first_, {});
                const std::string_view after =
                    std::string_view(all).substr(h.kind == Hello::Kind::not_hello ? 0 : nl + 1);
                if (h.kind == Hello::Kind::bad) return refuse_stream(h.error);
                if (h.kind != Hello::Kind::acked) {
                    mode_ = Mode::plain;
                    return deliver(after);
                }
                std::string reply;
                stream_ = owner_->acks_->attach(h, *this, owner_->stats_, owner_->opts_.format,
                                                owner_->opts_.max_line, reply);
                if (!stream_) return refuse_stream(reply);
                mode_ = Mode::acked;
                send(std::move(reply));
                return deliver(after);
            }
            if (bytes.empty()) return true;
            if (mode_ == Mode::acked) {
                stream_->feed(bytes);
                // Another model's records (one other_model reject): the client is told.
                if (stream_->refused()) return end_with_error("records of another model");
                return true;
            }
            ingest_.set_arrival_time(wall_clock_seconds());
            ingest_.feed(bytes);
            if (!ingest_.refused()) return true;
            close();  // another model's records (other_model): hang up
            return false;
        }
        // A bad hello: one malformed reject whose sample is the fixed reason, an error line
        // to the client, and the connection ends once it is written.
        bool refuse_stream(std::string_view why) {
            owner_->stats_.add_reject(RejectReason::malformed, why);
            owner_->stats_.dirty = true;
            mode_ = Mode::plain;
            return end_with_error(why);
        }
        // An error line to the client; the connection ends once it is written.
        bool end_with_error(std::string_view why) {
            closing_ = true;
            send(error_line(why));
            return false;
        }

        // AckLink: replies go out in order; an unsent acknowledgement is replaced by the next
        // (they are cumulative), so a client that does not read costs one line.
        void send(std::string line) override {
            if (!owner_) return;
            if (out_.size() >= 2)
                out_.back() = std::move(line);
            else
                out_.push_back(std::move(line));
            if (!writing_) write_next();
        }
        void write_next() {
            writing_ = true;
            auto self = this->shared_from_this();
            auto done = [self](const boost::system::error_code& ec, size_t) {
                self->writing_ = false;
                self->out_.pop_front();
                if (!self->owner_) return;
                if (ec || (self->closing_ && self->out_.empty())) return self->close();
                if (!self->out_.empty()) self->write_next();
            };
            if (tls_)
                boost::asio::async_write(*tls_, boost::asio::buffer(out_.front()), std::move(done));
            else
                boost::asio::async_write(socket_, boost::asio::buffer(out_.front()),
                                         std::move(done));
        }
        void resume() override {
            if (owner_ && !reading_) read();
        }
        void taken_over() override {
            spdlog::info("{}: stream {} continues on a newer connection; closing this one",
                         owner_->stats_.name, stream_->id());
            close();
        }
        // Listener::stop(): what the kernel already received is read (without waiting), then the
        // connection closes. Bounded by what was there when the drain began.
        void drain() {
            boost::system::error_code ec;
            socket_.non_blocking(true, ec);
            size_t budget = socket_.available(ec) + buf_.size();
            while (!ec && budget > 0) {
                const auto chunk = boost::asio::buffer(buf_.data(), std::min(budget, buf_.size()));
                const size_t n = tls_ ? tls_->read_some(chunk, ec) : socket_.read_some(chunk, ec);
                if (n > 0 && !received(std::string_view(buf_.data(), n))) return;
                budget -= std::min(budget, std::max<size_t>(n, 1));
            }
            close();
        }
        // One auth_failed reject; the sample is the gate's fixed reason, never the line.
        void refuse(const std::string& why) {
            owner_->stats_.add_reject(RejectReason::auth_failed, why);
            owner_->stats_.dirty = true;
            spdlog::debug("{}: refused a connection: {}", owner_->stats_.name, why);
        }
        void arm_idle() {
            if (!owner_) return;
            const int idle = owner_->opts_.idle_timeout_s, auth = owner_->opts_.auth_timeout_s;
            const bool authenticating = this->authenticating();
            // The auth deadline counts from the accept: bytes trickling in do not extend it.
            const auto idle_end = std::chrono::steady_clock::now() + std::chrono::seconds(idle);
            const auto auth_end = accepted_ + std::chrono::seconds(auth);
            if (authenticating && (idle <= 0 || auth_end < idle_end))
                idle_.expires_at(auth_end);
            else if (idle > 0)
                idle_.expires_at(idle_end);
            else
                return;
            auto self = this->shared_from_this();
            idle_.async_wait(
                [self, authenticating, idle, auth](const boost::system::error_code& ec) {
                    if (ec || !self->owner_) return;
                    if (authenticating)
                        spdlog::info("{}: closing a connection not authenticated within {} s",
                                     self->owner_->stats_.name, auth);
                    else
                        spdlog::info("{}: closing a connection idle for {} s",
                                     self->owner_->stats_.name, idle);
                    self->close();
                });
        }

        Listener* owner_;
        typename Protocol::socket socket_;
        std::optional<boost::asio::ssl::stream<typename Protocol::socket&>> tls_;
        boost::asio::steady_timer idle_;
        StreamIngest ingest_;  // a plain stream's
        AuthGate gate_;
        bool handshaken_ = false;  // TLS only
        Mode mode_;
        std::string first_;              // the first line, until it decides the mode
        AckedStream* stream_ = nullptr;  // an acknowledged stream's
        std::deque<std::string> out_;    // reply lines; the front one is being written
        bool writing_ = false, reading_ = false;
        bool closing_ = false;  // refused: closed once the error line is written
        std::vector<char> buf_;
        const std::chrono::steady_clock::time_point accepted_ = std::chrono::steady_clock::now();
    };

    void accept() {
        acceptor_.async_accept(
            [this](const boost::system::error_code& ec, typename Protocol::socket sock) {
                if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
                if (!ec) {
                    if (conns_.size() >= opts_.max_connections && !evict_unauthenticated()) {
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
                        stats_.open_connections = conns_.size();
                        c->start();
                    }
                }
                accept();
            });
    }

    // The listener is full: the connection longest in authentication is closed (counted as
    // refused) to make room. False when every open connection is authenticated.
    bool evict_unauthenticated() {
        std::shared_ptr<Connection> oldest;
        for (const auto& c : conns_)
            if (c->authenticating() && (!oldest || c->accepted() < oldest->accepted())) oldest = c;
        if (!oldest) return false;
        ++stats_.connections_refused;
        stats_.dirty = true;
        if (stats_.connections_refused % 100 == 1)
            spdlog::warn(
                "{}: {} connections open (the limit); closing the oldest one still "
                "authenticating for a new one",
                stats_.name, conns_.size());
        oldest->close();
        return true;
    }

    boost::asio::io_context& io_;
    typename Protocol::acceptor acceptor_;
    SourceStats stats_;
    Aggregates& agg_;
    StreamOptions opts_;
    AckedStreams* acks_;
    std::set<std::shared_ptr<Connection>> conns_;
    bool stopping_ = false;  // stop() was called: connections drain and close
};

using TcpListener = Listener<boost::asio::ip::tcp>;
using UnixListener = Listener<boost::asio::local::stream_protocol>;

}  // namespace moe
