// Issue 29: acknowledged streams count every line once across reconnects, resends and
// failed commits (daemon/acked_streams.hpp, daemon/stream_hello.hpp), without sockets.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "daemon/acked_streams.hpp"

using namespace moe;

namespace {
// A connection as the registry sees it: what it was sent, resumed, or told.
struct FakeLink : AckLink {
    std::vector<std::string> sent;
    int resumed = 0;
    bool taken = false;
    void send(std::string line) override { sent.push_back(std::move(line)); }
    void resume() override { ++resumed; }
    void taken_over() override { taken = true; }
};

std::string lines(int from, int to) {  // "layer,e1 e2" lines numbered from..to
    std::string out;
    for (int i = from; i <= to; ++i)
        out += std::to_string(i % 4) + "," + std::to_string(i % 5) + " " +
               std::to_string(5 + i % 3) + "\n";
    return out;
}

Hello hello(std::string id, std::optional<uint64_t> next = std::nullopt) {
    Hello h = parse_hello("{\"type\": \"hello\", \"stream\": \"" + id + "\", \"ack\": true}");
    h.next = next;
    return h;
}

uint64_t tokens(const Aggregates& agg) {
    return agg.tag(kAllTag).global.tokens;
}

struct Fixture {
    Aggregates agg;
    SourceStats stats;
    AckedStreams acks{agg, {}};
    AckedStream* attach(FakeLink& link, const Hello& h, std::string* reply = nullptr) {
        std::string r;
        AckedStream* s = acks.attach(h, link, stats, Format::auto_detect, 1 << 20, r);
        if (reply) *reply = r;
        return s;
    }
};
}  // namespace

TEST_CASE("hello lines: acked, plain, not a hello, or refused with a fixed reason") {
    Hello h = parse_hello(R"({"type": "hello", "stream": "node-1/gpu:0", "ack": true})");
    CHECK(h.kind == Hello::Kind::acked);
    CHECK(h.stream == "node-1/gpu:0");
    CHECK_FALSE(h.next);
    h = parse_hello("{\"type\":\"hello\",\"stream\":\"s\",\"ack\":true,\"next\":42}\r");
    CHECK(h.kind == Hello::Kind::acked);
    CHECK(h.next == 42u);
    CHECK(parse_hello(R"({"type": "hello", "stream": "s"})").kind == Hello::Kind::plain);
    CHECK(parse_hello(R"({"type": "hello", "stream": "s", "ack": false})").kind ==
          Hello::Kind::plain);
    CHECK(parse_hello(R"({"layer": 1, "experts": [1, 2]})").kind == Hello::Kind::not_hello);
    CHECK(parse_hello("0,1 2").kind == Hello::Kind::not_hello);
    for (const char* bad :
         {R"({"type": "hello", "ack": true})", R"({"type": "hello", "stream": "", "ack": true})",
          R"({"type": "hello", "stream": "a b", "ack": true})",
          R"({"type": "hello", "stream": "x\u001b[2J", "ack": true})",
          R"({"type": "hello", "stream": "s", "ack": true, "next": 0})",
          R"({"type": "hello", "stream": "s", "ack": true, "next": -3})",
          R"({"type": "hello", "stream": "s", "ack": true, "next": "7"})"}) {
        INFO(bad);
        h = parse_hello(bad);
        CHECK(h.kind == Hello::Kind::bad);
        CHECK_FALSE(h.error.empty());
    }
    CHECK(parse_hello("{\"type\": \"hello\", \"stream\": \"" + std::string(129, 'a') +
                      "\", \"ack\": true}")
              .kind == Hello::Kind::bad);
    CHECK(ack_line("s", 7) == "{\"type\":\"ack\",\"stream\":\"s\",\"seq\":7}\n");
    CHECK(ack_line("s", 7, 8) == "{\"type\":\"ack\",\"stream\":\"s\",\"seq\":7,\"next\":8}\n");
    CHECK(error_line("a \"b\"") == "{\"type\":\"error\",\"reason\":\"a \\\"b\\\"\"}\n");
}

TEST_CASE("acked stream: a resent line is dropped, an unacknowledged one counted once") {
    Fixture f;
    FakeLink a;
    std::string reply;
    AckedStream* s = f.attach(a, hello("s"), &reply);
    REQUIRE(s);
    CHECK(reply == ack_line("s", 0, 1));
    s->feed(lines(1, 10));
    CHECK(s->counted() == 10);
    auto pos = f.acks.take_positions();
    REQUIRE(pos.size() == 1);
    CHECK(pos[0].seq == 10);
    f.acks.committed(pos);
    CHECK(a.sent == std::vector<std::string>{ack_line("s", 10)});
    s->feed(lines(11, 14));
    s->feed("1,2");       // a partial line: not counted, lost with the connection
    f.acks.detach(s, a);  // lines 11..14 counted, not committed
    CHECK(tokens(f.agg) == 14);

    // The client resends from its first unacknowledged line, 11: 11..14 are dropped.
    FakeLink b;
    s = f.attach(b, hello("s", 11), &reply);
    CHECK(reply == ack_line("s", 10, 11));
    s->feed(lines(11, 20));
    CHECK(s->counted() == 20);
    CHECK(tokens(f.agg) == 20);
    pos = f.acks.take_positions();
    REQUIRE(pos.size() == 1);
    CHECK(pos[0].seq == 20);
    CHECK(f.stats.rejects[static_cast<size_t>(RejectReason::partial_line)] == 0);
}

TEST_CASE("acked stream: without next, a client goes on after the committed line") {
    Fixture f;
    FakeLink a, b;
    AckedStream* s = f.attach(a, hello("s"));
    s->feed(lines(1, 5));
    f.acks.committed(f.acks.take_positions());
    s->feed(lines(6, 8));  // counted, not committed
    std::string reply;
    s = f.attach(b, hello("s"), &reply);  // takes over the stream
    CHECK(a.taken);
    CHECK(reply == ack_line("s", 5, 6));
    s->feed(lines(6, 9));  // 6..8 dropped
    CHECK(tokens(f.agg) == 9);
}

TEST_CASE("acked stream: a gap the client cannot fill is skipped, numbering goes on") {
    Fixture f;
    FakeLink a;
    AckedStream* s = f.attach(a, hello("s"));
    s->feed(lines(1, 3));
    f.acks.detach(s, a);
    s = f.attach(a, hello("s", 10));
    s->feed(lines(10, 12));
    CHECK(s->counted() == 12);
    CHECK(tokens(f.agg) == 6);
}

TEST_CASE("acked stream: an open multi-line document is not committed, and is read again") {
    Fixture f;
    FakeLink a;
    AckedStream* s = f.attach(a, hello("doc"));
    const std::string doc =
        "{\n\"num_experts\": 8, \"top_k\": 2, \"samples\": [{\"sample_id\": 0, \"layers\": "
        "[{\"layer\": 3, \"selected_experts\": [[1, 2], [3, 4]]}]}]\n}\n";
    const auto nl = doc.find('\n', doc.find('\n') + 1) + 1;  // "{" and the body line
    s->feed(lines(1, 2));
    s->feed(doc.substr(0, nl));
    CHECK(s->counted() == 4);
    auto pos = f.acks.take_positions();
    REQUIRE(pos.size() == 1);
    CHECK(pos[0].seq == 2);  // the document's lines wait for its end
    f.acks.committed(pos);
    f.acks.detach(s, a);
    CHECK(s->counted() == 2);
    s = f.attach(a, hello("doc"));  // resent from line 3: the whole document
    s->feed(doc);
    CHECK(tokens(f.agg) == 4);
    CHECK(f.acks.take_positions().at(0).seq == 5);
}

TEST_CASE("acked stream: a failed commit pauses reading until one succeeds") {
    Fixture f;
    FakeLink a, b;
    AckedStream* s = f.attach(a, hello("s"));
    s->feed(lines(1, 4));
    auto pos = f.acks.take_positions();
    f.acks.failed(pos);
    CHECK(f.acks.paused());
    f.acks.wait(a);
    f.acks.wait(a);  // once
    CHECK(a.sent.empty());
    pos = f.acks.take_positions();  // taken again
    REQUIRE(pos.size() == 1);
    f.acks.committed(pos);
    CHECK_FALSE(f.acks.paused());
    CHECK(a.resumed == 1);
    CHECK(a.sent == std::vector<std::string>{ack_line("s", 4)});
    // A waiting connection that closes is not resumed.
    f.acks.failed(f.acks.take_positions());
    f.acks.wait(b);
    f.acks.detach(nullptr, b);
    f.acks.committed({});
    CHECK(b.resumed == 0);
}

TEST_CASE("acked streams: positions restored from the database go on") {
    Aggregates agg;
    SourceStats stats;
    AckedStreams acks(agg, {{"old", "tcp://127.0.0.1:1", 40, ""}});
    FakeLink a;
    std::string reply;
    // The client never saw the ack for 38..40 (moescoped was killed after committing them):
    // the reply acknowledges them, so it resends from 41, and the stream resumes there.
    AckedStream* s = acks.attach(hello("old", 38), a, stats, Format::auto_detect, 1 << 20, reply);
    CHECK(reply == ack_line("old", 40, 41));
    s->feed(lines(41, 45));
    CHECK(s->counted() == 45);
    CHECK(acks.take_positions().at(0).seq == 45);  // also decides records held on top-k probation
    CHECK(agg.tag(kAllTag).global.tokens == 5);
}

TEST_CASE("acked stream: an ack for a commit in flight waits for the resent lines") {
    Fixture f;
    FakeLink a, b;
    AckedStream* s = f.attach(a, hello("s"));
    s->feed(lines(1, 10));
    const auto pos = f.acks.take_positions();  // being written...
    f.acks.detach(s, a);                       // ...when the connection is lost
    std::string reply;
    s = f.attach(b, hello("s", 1), &reply);
    CHECK(reply == ack_line("s", 0, 1));  // 1..10 not committed yet: resent, and dropped
    f.acks.committed(pos);
    // An ack for 10 now could make the client forget 1..10 before resending them, and
    // 11.. would be dropped in their place: it waits.
    CHECK(b.sent.empty());
    s->feed(lines(1, 6));
    CHECK(b.sent.empty());
    s->feed(lines(7, 12));
    CHECK(b.sent == std::vector<std::string>{ack_line("s", 10)});
    CHECK(s->counted() == 12);
    CHECK(tokens(f.agg) == 12);
}
