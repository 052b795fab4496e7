#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parsers/line_splitter.hpp"

using moe::LineSplitter;

namespace {
struct Collected {
    std::vector<std::string> lines;
    std::vector<std::string> too_long;
};

Collected feed_in_chunks(LineSplitter& s, const std::string& data, std::vector<size_t> cuts) {
    Collected c;
    size_t pos = 0;
    cuts.push_back(data.size());
    for (size_t cut : cuts) {
        s.feed(
            std::string_view(data).substr(pos, cut - pos),
            [&](std::string_view l) { c.lines.emplace_back(l); },
            [&](std::string_view l) { c.too_long.emplace_back(l); });
        pos = cut;
    }
    return c;
}
}  // namespace

TEST_CASE("lines are reassembled whatever the chunk boundaries") {
    const std::string data = "0,1 2\n12,52 40 85\r\ngate_input,3,0,1 2\n\nlast";
    // Every possible single cut, and every byte on its own.
    for (size_t cut = 0; cut <= data.size(); ++cut) {
        LineSplitter s;
        auto c = feed_in_chunks(s, data, {cut});
        REQUIRE(c.lines ==
                std::vector<std::string>{"0,1 2", "12,52 40 85", "gate_input,3,0,1 2", ""});
        CHECK(s.consumed() == data.size() - 4);
        CHECK(s.pending() == "last");
        CHECK(s.pending_bytes() == 4);
    }
    LineSplitter s;
    std::vector<size_t> every;
    for (size_t i = 1; i < data.size(); ++i)
        every.push_back(i);
    auto c = feed_in_chunks(s, data, every);
    CHECK(c.lines.size() == 4);
    CHECK(c.lines[1] == "12,52 40 85");  // CR stripped
}

TEST_CASE("consumed offset counts only complete lines and honours reset") {
    LineSplitter s;
    s.reset(100);
    feed_in_chunks(s, "a\nbb\nccc", {});
    CHECK(s.consumed() == 105);
    CHECK(s.pending_bytes() == 3);
    s.reset(0);
    CHECK(s.consumed() == 0);
    CHECK(s.pending().empty());
}

TEST_CASE("a line over the limit is reported once and dropped, memory stays bounded") {
    LineSplitter s(16);
    SECTION("inside one chunk") {
        auto c = feed_in_chunks(s, "short\n" + std::string(40, 'x') + "\nafter\n", {});
        CHECK(c.lines == std::vector<std::string>{"short", "after"});
        REQUIRE(c.too_long.size() == 1);
        CHECK(c.too_long[0].substr(0, 3) == "xxx");
        CHECK(s.consumed() == 6 + 41 + 6);
    }
    SECTION("across many chunks, the newline arriving much later") {
        std::string big = std::string(1000, 'y') + "\nok\n";
        std::vector<size_t> cuts;
        for (size_t i = 7; i < big.size(); i += 7)
            cuts.push_back(i);
        auto c = feed_in_chunks(s, big, cuts);
        CHECK(c.too_long.size() == 1);
        CHECK(c.lines == std::vector<std::string>{"ok"});
        CHECK(s.consumed() == big.size());
        CHECK(s.pending().size() <= 16);
    }
    SECTION("completed by the chunk holding the newline") {
        auto c = feed_in_chunks(s, std::string(10, 'z') + std::string(10, 'z') + "\n", {10});
        CHECK(c.too_long.size() == 1);
        CHECK(c.lines.empty());
    }
}
