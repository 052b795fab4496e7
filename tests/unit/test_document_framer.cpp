#include <catch2/catch.hpp>

#include "parsers/document_framer.hpp"

using namespace moe;

namespace {
struct Framed {
    std::vector<std::string> docs, too_large, partial;
};

void add(DocumentFramer& f, Framed& out, std::string_view line, bool terminated = true) {
    f.add(
        line, terminated, [&](std::string_view d) { out.docs.emplace_back(d); },
        [&](std::string_view s) { out.too_large.emplace_back(s); });
}
}  // namespace

TEST_CASE("documents open on a bare brace line and close on a bare closing one") {
    CHECK(DocumentFramer::opens("{"));
    CHECK(DocumentFramer::opens("  [\t"));
    CHECK_FALSE(DocumentFramer::opens("{\"a\": 1}"));
    CHECK(DocumentFramer::closes("}"));
    CHECK_FALSE(DocumentFramer::closes(" }"));  // an inner object's end, indented

    DocumentFramer f;
    Framed out;
    f.begin("{", 40);
    CHECK(f.open());
    CHECK(f.start() == 40);
    add(f, out, "  \"a\": {");
    add(f, out, "  }");
    CHECK(out.docs.empty());
    add(f, out, "}", false);  // json.dump(): no newline after the last brace
    CHECK_FALSE(f.open());
    REQUIRE(out.docs.size() == 1);
    CHECK(out.docs[0] == "{\n  \"a\": {\n  }\n}");
}

TEST_CASE("a document over the cap is reported once and dropped up to its end") {
    DocumentFramer f(16);
    Framed out;
    f.begin("{", 0);
    add(f, out, "\"abc\": 1,");
    add(f, out, "\"defgh\": 2,");
    add(f, out, "\"ijklm\": 3");
    CHECK(out.too_large == std::vector<std::string>{"{\n\"abc\": 1,\n"});
    add(f, out, "}");
    CHECK(out.docs.empty());
    CHECK_FALSE(f.open());
    f.abandon([&](std::string_view s) { out.partial.emplace_back(s); });
    CHECK(out.partial.empty());  // nothing open
}

TEST_CASE("an abandoned document reports its first bytes once") {
    DocumentFramer f;
    Framed out;
    f.begin("[", 0);
    add(f, out, std::string(300, 'x'));
    f.abandon([&](std::string_view s) { out.partial.emplace_back(s); });
    REQUIRE(out.partial.size() == 1);
    CHECK(out.partial[0].size() == DocumentFramer::kSampleBytes);
    CHECK(out.partial[0].substr(0, 3) == "[\nx");
    CHECK_FALSE(f.open());
}
