#include "daemon/stdin_source.hpp"

#include "analytics/wall_clock.hpp"

#include <unistd.h>
#include <cerrno>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "models/unique_fd.hpp"

namespace moe {

StdinSource::StdinSource(boost::asio::io_context& io, SourceStats restored, Aggregates& agg,
                         Format format, size_t max_line, std::function<void()> on_end)
    : io_(io),
      in_(io),
      stats_(std::move(restored)),
      ingest_(agg, stats_, format, max_line),
      on_end_(std::move(on_end)),
      buf_(1u << 20) {
    stats_.kind = "stdin";
    ingest_.refuse_other_model();
}

void StdinSource::start() {
    UniqueFd fd(::dup(STDIN_FILENO));
    boost::system::error_code ec;
    in_.assign(fd.get(), ec);
    // epoll refuses regular files: read those in chunks posted to the loop instead.
    if (!ec) {
        in_.non_blocking(true, ec);
        if (!ec) {
            fd.release();  // in_ owns it now
            return read_async();
        }
    }
    if (in_.is_open()) in_.release();  // fd closes the descriptor
    boost::asio::post(io_, [this] { read_blocking_chunk(); });
}

void StdinSource::stop() {
    stopped_ = true;
    boost::system::error_code ec;
    in_.close(ec);
}

void StdinSource::read_async() {
    in_.async_read_some(boost::asio::buffer(buf_),
                        [this](const boost::system::error_code& ec, size_t n) {
                            if (stopped_) return;
                            if (n > 0) {
                                ingest_.set_arrival_time(wall_clock_seconds());
                                ingest_.feed(std::string_view(buf_.data(), n));
                            }
                            if (ec) return end();
                            read_async();
                        });
}

void StdinSource::read_blocking_chunk() {
    if (stopped_) return;
    const ssize_t n = ::read(STDIN_FILENO, buf_.data(), buf_.size());
    if (n < 0 && errno == EINTR) return boost::asio::post(io_, [this] { read_blocking_chunk(); });
    if (n <= 0) return end();
    ingest_.set_arrival_time(wall_clock_seconds());
    ingest_.feed(std::string_view(buf_.data(), static_cast<size_t>(n)));
    boost::asio::post(io_, [this] { read_blocking_chunk(); });
}

void StdinSource::end() {
    if (ended_) return;
    ended_ = true;
    ingest_.finish();
    spdlog::info("stdin: end of input ({} records)", stats_.records);
    if (on_end_) on_end_();
}

}  // namespace moe
