// Auto-detection asks only the formats whose may_claim() admits a line's first byte
// (parsers/line_parser.cpp): that filter must never hide a claim. Every built-in format,
// fed every line of the bundled samples and real traces (so stateful claims, such as a
// count CSV after its header, are reached) plus hostile variants of each, must satisfy
// claims(line) => may_claim(first byte of the trimmed line).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "parsers/format_registry.hpp"
#include "parsers/number_scan.hpp"
#include "recording_sink.hpp"

using namespace moe;

namespace {
std::vector<std::string> corpus() {
    std::vector<std::string> lines;
    for (const char* dir : {"/samples", "/../shared/realdata"}) {
        const std::filesystem::path root = std::string(MOESCOPE_SOURCE_DIR) + dir;
        if (!std::filesystem::exists(root)) continue;
        for (const auto& f : std::filesystem::recursive_directory_iterator(root)) {
            if (!f.is_regular_file() || f.file_size() > (8u << 20)) continue;
            std::ifstream in(f.path(), std::ios::binary);
            size_t n = 0;
            for (std::string line; std::getline(in, line) && n < 4000; ++n)
                lines.push_back(line);
        }
    }
    return lines;
}
}  // namespace

TEST_CASE("first-byte dispatch never hides a format's claim") {
    const auto base = corpus();
    REQUIRE(base.size() > 1000);
    std::mt19937 rng(11);
    size_t claimed = 0;
    for (const FormatEntry& e : FormatRegistry::builtin().entries()) {
        auto parser = e.make({});
        test::RecordingSink sink;
        for (const std::string& line : base)
            for (const std::string& v : {line, " " + line, "\t" + line, "\r" + line, line + "\r",
                                         std::string(1, static_cast<char>(rng() & 0xff)) + line}) {
                const std::string_view t = scan::trim(v);
                if (t.empty()) continue;
                if (parser->claims(v)) {
                    ++claimed;
                    INFO(e.name << " claims a line starting with byte "
                                << int(static_cast<unsigned char>(t.front())) << ": " << v);
                    CHECK(parser->may_claim(static_cast<unsigned char>(t.front())));
                }
                parser->parse(v, sink);  // advances stateful claims (headers)
            }
    }
    CHECK(claimed > 1000);
}
