// The figure table is the one description of every per-layer figure: these tests check that
// each output (JSON, CSV, the brief table, Prometheus) uses its keys, and that docs/FIGURES.md
// defines each of them.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include <simdjson.h>

#include "cli/command_runner.hpp"
#include "daemon/prometheus_text.hpp"
#include "fixtures.hpp"
#include "ingest/stream_ingest.hpp"

using namespace moe;

namespace {

struct Loaded {
    Aggregates agg;
    std::vector<SourceStats> sources = std::vector<SourceStats>(1);
    Loaded() {
        StreamIngest in(agg, sources[0], Format::auto_detect);
        in.feed("layer_id,expert_ids\n0,1 2\n0,1 3\n1,0 2\n1,2 3\n");
        in.finish();
        agg.pad_to_num_experts();
    }
};

std::string run(const Loaded& d, std::string_view cmd, OutputFormat f) {
    CommandArgs a;
    a.q.format = f;
    const Query x{d.agg, d.sources, a.q, a, ""};
    return render(*find_command(cmd), x);
}

}  // namespace

TEST_CASE("figure keys are unique and each is defined in docs/FIGURES.md") {
    std::ifstream in(test::source_path("docs/FIGURES.md"));
    REQUIRE(in);
    std::stringstream doc;
    doc << in.rdbuf();
    std::set<std::string_view> keys;
    for (const Figure& f : layer_figures()) {
        INFO(f.key);
        CHECK(keys.insert(f.key).second);
        CHECK(!f.unit.empty());
        CHECK(!f.help.empty());
        CHECK(doc.str().find("`" + std::string(f.key) + "`") != std::string::npos);
        CHECK(find_layer_figure(f.key) == &f);
    }
    CHECK(find_layer_figure("no_such_figure") == nullptr);
}

TEST_CASE("layers --json, --csv and Prometheus use the figure keys") {
    const Loaded d;
    simdjson::dom::parser p;
    const auto doc = p.parse(run(d, "layers", OutputFormat::json));
    const auto layer0 = doc["layers"].at(0);
    const std::string csv = run(d, "layers", OutputFormat::csv);
    const std::string header = csv.substr(0, csv.find('\n'));
    const std::string prom = prometheus_text(d.agg, {&d.sources[0]});
    for (const Figure& f : layer_figures()) {
        INFO(f.key);
        CHECK(layer0[f.key].error() == simdjson::SUCCESS);
        CHECK(("," + header + ",").find("," + std::string(f.key) + ",") != std::string::npos);
        CHECK((prom.find("\n" + metric::layer_figure(f) + "{") != std::string::npos) == f.gauge);
    }
    // A value: layer 0 has hits {1: 2, 2: 1, 3: 1} over E = 4 experts, so expert 0 is dead.
    CHECK(int64_t(layer0["dead_experts"]) == 1);
    CHECK(int64_t(layer0["max_expert"]) == 1);
    CHECK(prom.find("moescope_layer_dead_experts{tag=\"all\",layer=\"0\"} 1\n") !=
          std::string::npos);
}

TEST_CASE("layers --brief prints the brief figures under their short headers") {
    const Loaded d;
    CommandArgs a;
    a.q.brief = true;
    const Query x{d.agg, d.sources, a.q, a, ""};
    const std::string t = render(*find_command("layers"), x);
    const std::string first = t.substr(0, t.find('\n'));
    for (const Figure& f : layer_figures()) {
        INFO(f.key);
        if (f.brief) CHECK(first.find(std::string(f.header)) != std::string::npos);
    }
}
