// Issue 19: token authentication of stream connections and /metrics, and the refusal of
// exposed addresses without protection (docs/ARCHITECTURE.md "Remote access").
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "daemon/auth_gate.hpp"
#include "daemon/auth_tokens.hpp"
#include "daemon/tls_context.hpp"
#include "temp_dir.hpp"

using namespace moe;
using moe::test::TempDir;

namespace {
const AuthTokens kTokens({"s3cret-one", "other-token"});

std::string must_open(AuthGate& g, std::string_view bytes) {
    std::string fwd;
    REQUIRE(g.feed(bytes, fwd) == AuthGate::State::open);
    return fwd;
}
}  // namespace

TEST_CASE("tokens match exactly, any of several, never a prefix or an empty one") {
    CHECK(kTokens.size() == 2);
    CHECK(kTokens.accepts("s3cret-one"));
    CHECK(kTokens.accepts("other-token"));
    CHECK_FALSE(kTokens.accepts("s3cret"));
    CHECK_FALSE(kTokens.accepts("s3cret-one "));
    CHECK_FALSE(kTokens.accepts(""));
}

TEST_CASE("a token file: one a line, blanks trimmed; empty or missing files are errors") {
    TempDir dir;
    const std::string path = dir.file("tokens");
    std::ofstream(path) << "\n  alpha \r\nbeta\n\n";
    const AuthTokens t = AuthTokens::load(path);
    CHECK(t.size() == 2);
    CHECK(t.accepts("alpha"));
    CHECK(t.accepts("beta"));
    std::ofstream(path, std::ios::trunc) << "\n \n";
    CHECK_THROWS_WITH(AuthTokens::load(path),
                      Catch::Contains("holds no token") && Catch::Contains(path));
    CHECK_THROWS_WITH(
        AuthTokens::load(dir.file("nope")),
        Catch::Contains("cannot read --auth-token-file") && Catch::Contains("No such file"));
}

TEST_CASE("bearer tokens are read from Authorization values, scheme case-insensitive") {
    CHECK(bearer_token("Bearer abc").value() == "abc");
    CHECK(bearer_token("bearer  abc ").value() == "abc");
    CHECK_FALSE(bearer_token("Basic YWJj").has_value());
    CHECK_FALSE(bearer_token("Bearer ").has_value());
    CHECK_FALSE(bearer_token("Bearerabc").has_value());
}

TEST_CASE("the right token opens the gate; what follows the auth line goes on") {
    AuthGate g(&kTokens);
    std::string fwd;
    CHECK(g.feed(R"({"type": "auth", "tok)", fwd) == AuthGate::State::pending);
    CHECK(fwd.empty());
    CHECK(must_open(g, "en\": \"other-token\"}\r\n{\"layer\":0}\n{\"la") == "{\"layer\":0}\n{\"la");
    CHECK(must_open(g, "more") == "");  // open: the caller no longer feeds the gate
}

TEST_CASE("a wrong, missing or absent token refuses with a reason that holds no secret") {
    const auto refused = [](std::string_view first, std::string_view why) {
        AuthGate g(&kTokens);
        std::string fwd;
        CHECK(g.feed(first, fwd) == AuthGate::State::refused);
        CHECK(fwd.empty());
        CHECK(g.reason() == why);
    };
    refused("{\"type\":\"auth\",\"token\":\"s3cret-onE\"}\n", "auth record with a wrong token");
    refused("{\"type\":\"auth\"}\n", "auth record without a token");
    refused("{\"layer\": 0, \"experts\": [1, 2]}\n", "first line is not an auth record");
    refused(std::string(AuthGate::kMaxAuthLine + 1, 'x'),
            "no auth line: the first 4096 bytes hold no complete line");
}

TEST_CASE("a connection closed mid auth line is refused; one that sent nothing is not") {
    AuthGate g(&kTokens);
    std::string fwd;
    CHECK_FALSE(g.end(fwd));
    AuthGate h(&kTokens);
    h.feed("{\"type\":\"auth\",\"token\":\"s3c", fwd);
    CHECK(h.end(fwd));
    CHECK(h.reason() == "connection closed before its auth line ended");
    CHECK(fwd.empty());
}

TEST_CASE("without tokens an auth line is dropped unparsed and anything else flows on") {
    AuthGate g(nullptr);
    CHECK(must_open(g, "{\"type\":\"auth\",\"token\":\"x\"}\n{\"layer\":1}\n") ==
          "{\"layer\":1}\n");
    AuthGate h(nullptr);
    CHECK(must_open(h, "{\"layer\":1}\n{\"la") == "{\"layer\":1}\n{\"la");
    AuthGate long_line(nullptr);
    const std::string big(AuthGate::kMaxAuthLine + 10, 'y');
    CHECK(must_open(long_line, big) == big);
    AuthGate cut(nullptr);
    std::string fwd;
    cut.feed("{\"lay", fwd);
    CHECK_FALSE(cut.end(fwd));
    CHECK(fwd == "{\"lay");  // counted as a partial line by the ingest, as before
}

TEST_CASE("a non-loopback address needs TLS, or a token with TLS (never in clear text)") {
    std::string err;
    const auto any = parse_listen_spec("tcp://0.0.0.0:7070", err).value();
    const auto lo = parse_listen_spec("tcp://:7070", err).value();
    const auto v6 = parse_listen_spec("tcp://[::1]:7070", err).value();
    NetSecurity none;
    CHECK(exposed_address({lo, v6}, std::nullopt, none).empty());
    CHECK_THAT(exposed_address({lo, any}, std::nullopt, none),
               Catch::StartsWith("--listen tcp://0.0.0.0:7070 is not loopback") &&
                   Catch::Contains("--tls-cert") && Catch::Contains("--auth-token-file") &&
                   Catch::Contains("--allow-insecure-remote"));
    const auto metrics = parse_listen_spec("tcp://10.1.2.3:9100", err);
    CHECK_THAT(exposed_address({lo}, metrics, none), Catch::StartsWith("--metrics 10.1.2.3:9100"));
    // A token without TLS would cross the network in clear text (issue 29 item 8).
    NetSecurity tokens;
    tokens.tokens = std::make_shared<const AuthTokens>(kTokens);
    CHECK(exposed_address({lo, v6}, std::nullopt, tokens).empty());
    CHECK_THAT(exposed_address({any}, std::nullopt, tokens),
               Catch::StartsWith("--listen tcp://0.0.0.0:7070 is not loopback and not TLS") &&
                   Catch::Contains("clear text") && Catch::Contains("--tls-cert") &&
                   Catch::Contains("--allow-insecure-remote"));
    CHECK_THAT(exposed_address({lo}, metrics, tokens),
               Catch::StartsWith("--metrics 10.1.2.3:9100 is not loopback and not TLS"));
    NetSecurity tls = tokens;
    tls.tls = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    CHECK(exposed_address({any}, metrics, tls).empty());
    tls.tokens = nullptr;  // encrypted, anyone admitted: allowed, as documented
    CHECK(exposed_address({any}, metrics, tls).empty());
}

TEST_CASE("a token file others may read is warned about, as ssh does for keys") {
    TempDir dir;
    const std::string path = dir.file("tokens");
    std::ofstream(path) << "alpha\n";
    ::chmod(path.c_str(), 0600);
    CHECK(token_file_warning(path).empty());
    ::chmod(path.c_str(), 0640);
    CHECK(token_file_warning(path) == "--auth-token-file " + path +
                                          " is readable by its group or others (mode 0640): "
                                          "chmod 600 it");
    ::chmod(path.c_str(), 0604);
    CHECK_THAT(token_file_warning(path), Catch::Contains("(mode 0604)"));
}
