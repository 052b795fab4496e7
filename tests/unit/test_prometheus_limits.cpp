#include <catch2/catch.hpp>

#include <regex>

#include "daemon/prometheus_text.hpp"
#include "ingest/stream_ingest.hpp"

using namespace moe;

namespace {
double sum_of(const std::string& text, const std::string& prefix) {
    double total = 0;
    size_t pos = 0;
    while ((pos = text.find(prefix, pos)) != std::string::npos) {
        const size_t sp = text.find(' ', pos);
        total += std::stod(text.substr(sp + 1, text.find('\n', sp) - sp - 1));
        pos = sp;
    }
    return total;
}
}  // namespace

TEST_CASE("Prometheus exposition: excess and long tags are summed under tag=\"other\"") {
    Aggregates agg;
    SourceStats s;
    StreamIngest in(agg, s, Format::auto_detect);
    std::string text;
    for (int t = 0; t < 20; ++t)  // 20 short tags, one record each
        text += "{\"layer\": 1, \"experts\": [0, " + std::to_string(t + 1) + "], \"tag\": \"t" +
                std::to_string(t) + "\"}\n";
    text += "{\"layer\": 1, \"experts\": [0, 1], \"tag\": \"" + std::string(100, 'L') + "\"}\n";
    in.feed(text);
    in.finish();
    ExpositionLimits lim;
    lim.max_tags = 16;
    const std::string t = prometheus_text(agg, {&s}, lim);
    CHECK(t.find("tag=\"t15\",layer=\"1\"") != std::string::npos);
    CHECK(t.find("tag=\"t16\"") == std::string::npos);
    CHECK(t.find(std::string(100, 'L')) == std::string::npos);
    // t16..t19 and the long tag: 5 records, 2 hits each, under "other".
    CHECK(sum_of(t, "moescope_expert_hits_total{tag=\"other\",layer=\"1\"") == 10);
    CHECK(t.find("moescope_layer_tokens_total{tag=\"other\",layer=\"all\"} 5\n") !=
          std::string::npos);
    CHECK(sum_of(t, "moescope_expert_hits_total{tag=\"all\",layer=\"1\"") == 42);
    CHECK(t.find("moescope_exposition_series_omitted 5\n") != std::string::npos);
}

TEST_CASE("Prometheus exposition: per-expert samples and layers are capped") {
    Aggregates agg;
    SourceStats s;
    StreamIngest in(agg, s, Format::auto_detect);
    std::string text;
    for (int l = 0; l < 10; ++l)
        text += std::to_string(l) + ",0 4095\n";
    in.feed(text);
    in.finish();
    ExpositionLimits lim;
    lim.max_layers = 4;
    lim.max_expert_samples = 3 * 4096;
    const std::string t = prometheus_text(agg, {&s}, lim);
    CHECK(t.find("moescope_layer_tokens_total{tag=\"all\",layer=\"3\"} 1\n") != std::string::npos);
    CHECK(t.find("layer=\"4\"") == std::string::npos);  // beyond max_layers
    CHECK(t.find("moescope_layer_tokens_total{tag=\"all\",layer=\"all\"} 10\n") !=
          std::string::npos);
    // Three whole layers of 4,096 experts fit; the fourth layer's are left out.
    CHECK(sum_of(t, "moescope_expert_hits_total{") == 6);
    CHECK(t.find("moescope_expert_hits_total{tag=\"all\",layer=\"3\"") == std::string::npos);
    CHECK(t.find("moescope_exposition_series_omitted " + std::to_string(6 + 4096) + "\n") !=
          std::string::npos);
}
