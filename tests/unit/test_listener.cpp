// Stream listeners (daemon/listener.hpp) driven on an io_context of the test: stop(), which
// SIGTERM calls, reads what a connection's kernel buffer already holds before closing it
// (issue 29 item 8: those lines were lost).
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "daemon/listener.hpp"

using namespace moe;
using namespace std::chrono_literals;

TEST_CASE("stop() reads what a connection already received, then closes it") {
    boost::asio::io_context io;
    Aggregates agg;
    SourceStats stats;
    stats.name = "tcp://test";
    TcpListener l(io, {boost::asio::ip::make_address("127.0.0.1"), 0}, stats, agg, {});
    l.start();
    boost::asio::ip::tcp::socket client(io);
    client.connect(l.local_endpoint());
    for (int i = 0; i < 400 && l.stats().connections == 0; ++i)
        io.run_for(5ms);
    REQUIRE(l.stats().connections == 1);

    std::string bytes;
    for (int i = 0; i < 100; ++i)
        bytes += "{\"layer\": 0, \"experts\": [" + std::to_string(i % 8) + ", 9]}\n";
    bytes += "{\"layer\": 0, \"exp";  // cut: one partial_line
    boost::asio::write(client, boost::asio::buffer(bytes));
    // The bytes wait in the listener's kernel buffer; its loop has not read them. SIGTERM:
    l.stop();
    for (int i = 0; i < 20; ++i)
        io.run_for(5ms);
    CHECK(l.stats().records == 100);
    CHECK(l.stats().bytes == bytes.size());
    CHECK(l.stats().rejects[static_cast<size_t>(RejectReason::partial_line)] == 1);
}
