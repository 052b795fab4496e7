// Output safety: JSON is valid UTF-8 whatever the bytes, samples are cut on character
// boundaries, tables escape control characters, CSV neutralises formula cells.
#include <catch2/catch.hpp>

#include "analytics/source_stats.hpp"
#include "cli/json_writer.hpp"
#include "cli/summary_report.hpp"
#include "cli/table.hpp"
#include "cli/time_spec.hpp"
#include "ingest/stream_ingest.hpp"
#include "parsers/utf8.hpp"

using namespace moe;

namespace {
std::string json_string(std::string_view s) {
    std::string out;
    JsonWriter::escape(out, s);
    return out;
}
bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8::sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}
}  // namespace

TEST_CASE("utf8::sequence_length accepts well-formed characters only") {
    CHECK(utf8::sequence_length("a", 0) == 1);
    CHECK(utf8::sequence_length("\xc3\xa9", 0) == 2);
    CHECK(utf8::sequence_length("\xe2\x82\xac", 0) == 3);
    CHECK(utf8::sequence_length("\xf0\x9f\x98\x80", 0) == 4);
    CHECK(utf8::sequence_length("\xc3", 0) == 0);              // cut short
    CHECK(utf8::sequence_length("\x80", 0) == 0);              // stray continuation
    CHECK(utf8::sequence_length("\xc0\xaf", 0) == 0);          // overlong
    CHECK(utf8::sequence_length("\xed\xa0\x80", 0) == 0);      // surrogate
    CHECK(utf8::sequence_length("\xf4\x90\x80\x80", 0) == 0);  // > U+10FFFF
    CHECK(utf8::sequence_length("\xff", 0) == 0);
}

TEST_CASE("JSON strings: bytes that are not UTF-8 become U+FFFD, characters stay") {
    CHECK(json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
    CHECK(json_string("a\xff"
                      "b") ==
          "\"a\xef\xbf\xbd"
          "b\"");
    CHECK(json_string("\xc3") == "\"\xef\xbf\xbd\"");
    CHECK(json_string("\xed\xa0\x80") == "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK(json_string(std::string("\x00\x1b", 2)) == "\"\\u0000\\u001b\"");
    CHECK(valid_utf8(json_string("\xfe\xff\x80\xc3\x28 \xf0\x9f\x98")));
}

TEST_CASE("reject samples are cut on a character boundary and escape non-UTF-8 bytes") {
    std::string line(SourceStats::kSampleBytes - 1, 'a');
    line += "\xc3\xa9\xc3\xa9";  // the first \xc3\xa9 straddles the sample length
    const std::string s = SourceStats::sample_of(line);
    CHECK(s == std::string(SourceStats::kSampleBytes - 1, 'a') + "...");
    CHECK(valid_utf8(s));

    CHECK(SourceStats::sample_of("x\xff\x1b\xc3\xa9") == "x\\xff\\x1b\xc3\xa9");
    CHECK(valid_utf8(SourceStats::sample_of("\xed\xa0\x80\xc3")));
}

TEST_CASE("tables escape control characters and keep every row") {
    Table t({"tag", "n"});
    t.add({std::string("a\0b", 3), "1"});
    t.add({"esc\x1b[31m", "2"});
    t.add({"cr\r\nlf", "3"});
    t.add({"last", "4"});
    const std::string out = t.render();
    CHECK(out.find('\0') == std::string::npos);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find('\r') == std::string::npos);
    CHECK(out.find("a\\x00b") != std::string::npos);
    CHECK(out.find("esc\\x1b[31m") != std::string::npos);
    CHECK(out.find("cr\\x0d\\x0alf") != std::string::npos);
    CHECK(out.find("last") != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 5);
    CHECK(printable_text("a\x1b\nb\n") == "a\\x1b\nb\n");
}

TEST_CASE("C1 controls and bidi overrides are escaped in tables, CSV and samples") {
    // U+009B (CSI, C2 9B) starts a terminal control sequence as ESC [ does; U+202E and
    // U+2066-U+2069 make text display in another order than it reads.
    const std::string csi =
        "a\xc2\x9b"
        "31mred";
    const std::string rlo =
        "x\xe2\x80\xae"
        "cod.exe";
    const std::string isolates =
        "\xe2\x81\xa6"
        "i"
        "\xe2\x81\xa9"
        "\xe2\x80\xaa";
    CHECK(printable(csi) == "a\\u009b31mred");
    CHECK(printable(rlo) == "x\\u202ecod.exe");
    CHECK(printable(isolates) == "\\u2066i\\u2069\\u202a");
    CHECK(printable("\xc2\x80\xc2\x9f") == "\\u0080\\u009f");
    CHECK(csv_cell(rlo) == "x\\u202ecod.exe");
    CHECK(SourceStats::sample_of(csi + rlo) == "a\\u009b31mredx\\u202ecod.exe");
    // Neighbours stay: U+00A0 (C2 A0), U+2070 (E2 81 B0), é.
    CHECK(printable("\xc2\xa0\xe2\x81\xb0\xc3\xa9") == "\xc2\xa0\xe2\x81\xb0\xc3\xa9");
    // A byte that is no character is shown as one, as in samples (an 8-bit terminal reads a
    // lone 0x9B as CSI).
    CHECK(printable("a\x9b"
                    "b") == "a\\x9bb");
    Table t({"tag"});
    t.add({rlo});
    CHECK(t.render().find("\xe2\x80\xae") == std::string::npos);
    CHECK(t.csv() == "tag\nx\\u202ecod.exe\n");
}

TEST_CASE("CSV neutralises formula cells but not plain numbers") {
    CHECK(csv_cell("=cmd()") == "'=cmd()");
    CHECK(csv_cell("+1+1") == "'+1+1");
    CHECK(csv_cell("@SUM(A1)") == "'@SUM(A1)");
    CHECK(csv_cell("-x") == "'-x");
    CHECK(csv_cell("=a,b") == "\"'=a,b\"");
    CHECK(csv_cell("-1.5") == "-1.5");
    CHECK(csv_cell("-2e-05") == "-2e-05");
    CHECK(csv_cell("+3") == "+3");
    CHECK(csv_cell("0.25") == "0.25");
    CHECK(csv_cell("plain") == "plain");
    CHECK(csv_cell("") == "");
    CHECK(csv_cell(std::string("a\0b", 3)) == "a\\x00b");
    Table t({"tag"});
    t.add({"=1+1"});
    CHECK(t.csv() == "tag\n'=1+1\n");
}

TEST_CASE("time specs: dates that do not exist and empty text are refused") {
    const int64_t now = 1'800'000'000;
    CHECK_FALSE(parse_time_spec("2026-02-30", now));
    CHECK_FALSE(parse_time_spec("2026-02-29", now));  // 2026 is not a leap year
    CHECK_FALSE(parse_time_spec("2026-11-23T24:30:00Z", now));
    CHECK_FALSE(parse_time_spec("", now));
    CHECK(parse_time_spec("2028-02-29", now) == 1'835'395'200);
    CHECK(parse_time_spec("2026-11-23", now) == 1'795'392'000);
}

TEST_CASE("the summary of no records and of one layer") {
    Aggregates agg;
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    write_summary_json(w, agg, agg.tag(kAllTag), {});
    w.end_object();
    CHECK(out.find("\"most_balanced\":[]") != std::string::npos);
    CHECK(summary_text(agg, agg.tag(kAllTag), {}) == "Summary (tag 'all'): no routing records.\n");

    SourceStats s;
    StreamIngest in(agg, s, Format::auto_detect);
    in.feed("{\"layer\": 3, \"experts\": [0, 1]}\n{\"layer\": 3, \"experts\": [0, 2]}\n");
    const std::string text = summary_text(agg, agg.tag(kAllTag), {});
    CHECK(text.find("most balanced   3 (Gini") != std::string::npos);
    CHECK(text.find("least balanced  3 (Gini") != std::string::npos);
}
