#include <catch2/catch.hpp>

#include "cli/html_report.hpp"
#include "cli/json_writer.hpp"
#include "daemon/prometheus_text.hpp"
#include "ingest/stream_ingest.hpp"

using namespace moe;

namespace {
void feed(Aggregates& agg, SourceStats& s, const std::string& text) {
    StreamIngest in(agg, s, Format::auto_detect);
    in.feed(text);
    in.finish();
}
}  // namespace

TEST_CASE("Prometheus exposition: counters, gauges, escaped labels") {
    Aggregates agg;
    SourceStats s;
    s.name = "file:/var/log/\"odd\"\\name.log";
    s.kind = "file";
    feed(agg, s,
         "0,1 2\n0,1 3\n{\"layer\": 0, \"experts\": [1, 2], \"tag\": \"ko\\\"x\"}\n0,9 9\n");
    const std::string t = prometheus_text(agg, {&s});
    CHECK(t.find("# TYPE moescope_expert_hits_total counter") != std::string::npos);
    CHECK(t.find("moescope_expert_hits_total{tag=\"all\",layer=\"0\",expert=\"1\"} 3\n") !=
          std::string::npos);
    CHECK(t.find("moescope_expert_hits_total{tag=\"ko\\\"x\",layer=\"0\",expert=\"1\"} 1\n") !=
          std::string::npos);
    CHECK(t.find("moescope_layer_tokens_total{tag=\"all\",layer=\"all\"} 3\n") !=
          std::string::npos);
    CHECK(t.find("moescope_source_rejects_total{source=\"file:/var/log/"
                 "\\\"odd\\\"\\\\name.log\",reason=\"duplicate_expert\"} 1\n") !=
          std::string::npos);
    CHECK(t.find("moescope_layer_dead_experts{tag=\"all\",layer=\"0\"} 1\n") !=
          std::string::npos);  // expert 0
    CHECK(t.find("moescope_experts 4\n") != std::string::npos);
    CHECK(prometheus_label("a\nb") == "a\\nb");
}

TEST_CASE("the HTML report embeds its data safely inside <script>") {
    Aggregates agg;
    SourceStats s;
    s.name = "</script><script>alert(1)</script>";
    feed(agg, s, "{\"layer\": 0, \"experts\": [1, 2], \"tag\": \"</script>\"}\n");
    QueryOptions q;
    const std::string page = html_report(agg, {s}, q, {});
    const auto data = page.find("<script id=\"data\" type=\"application/json\">");
    REQUIRE(data != std::string::npos);
    const auto end = page.find("</script>", data);
    const std::string json = page.substr(data, end - data);
    CHECK(json.find("\\u003c/script>") !=
          std::string::npos);  // escaped, so the element does not end early
    CHECK(page.find("alert(1)</script>") == std::string::npos);
    CHECK(page.find("http://") ==
          page.find("http://www.w3.org/2000/svg"));  // no network references
}

TEST_CASE("merging refuses different models and leaves the target untouched") {
    Aggregates a, b, c;
    SourceStats s;
    feed(a, s, "{\"type\": \"meta\", \"num_experts\": 8}\n0,1 2\n");
    feed(b, s, "{\"type\": \"meta\", \"num_experts\": 16}\n0,1 2\n");
    feed(c, s, "0,1 2 3\n");
    CHECK(a.merge(b).value() == "num_experts 8 vs 16");
    CHECK(a.tag(kAllTag).layer(0)->tokens == 1);
    CHECK(a.merge(c).value().find("top-2 in one and top-3") != std::string::npos);
    Aggregates d;
    feed(d, s, "0,5 6\n1,1 2\n");
    REQUIRE_FALSE(a.merge(d).has_value());
    CHECK(a.tag(kAllTag).layer(0)->tokens == 2);
    CHECK(a.tag(kAllTag).layer(0)->hits[5] == 1);
    CHECK(a.tag(kAllTag).layer(1)->tokens == 1);
}
