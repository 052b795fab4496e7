// docs/ARCHITECTURE.md "Adding a command", followed by the letter: a toy command written as
// its own file would be (here, in the test) and listed in a copy of the registry, nothing
// else, works through the real CLI parsing and runner.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <simdjson.h>
#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include "cli/command_runner.hpp"
#include "byte_builder.hpp"
#include "temp_dir.hpp"

using namespace moe;
using moe::test::write_file;

namespace {

// What cli/toy_report.cpp would hold:

// Its own options, declared nowhere else.
struct ToyArgs final : CommandOptions {
    int64_t scale = 1;
    bool sequence = false;
    // Declared needs that depend on the options given: the runner keeps the sequence.
    unsigned needs() const override { return sequence ? kNeedsSequence : kNeedsNothing; }
};

void toy_json(JsonWriter& w, const Query& x) {
    const ToyArgs& own = x.own<ToyArgs>();
    w.field("tag", std::string_view(x.tag().name))
        .field("layers", static_cast<uint64_t>(x.tag().layer_ids().size()))
        .field("scaled", static_cast<int64_t>(x.tag().layer_ids().size()) * own.scale)
        .field("sequence_kept", x.sequence != nullptr);
}

extern const CommandSpec kToyCommand = {
    "toy",
    "Layers of --tag, times --scale",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<ToyArgs>();
        flag::query(app, a);  // --json --csv --tag --since --until FILE...
        app.add_option("--scale", own.scale, "Multiply by this")->capture_default_str();
        app.add_flag("--sequence", own.sequence, "Keep the records in log order");
    },
    kNeedsLayer,
    toy_json,
    [](const Query& x) { return "layers\n" + std::to_string(x.tag().layer_ids().size()) + "\n"; },
    [](const Query& x) { return std::to_string(x.tag().layer_ids().size()) + " layers\n"; },
};

// What `moescope ARGS...` prints on stdout, with the toy registry, and its exit code.
struct RecipeRun {
    int code;
    std::string out;
};

RecipeRun run(const std::vector<const CommandSpec*>& registry, std::vector<std::string> args) {
    args.insert(args.begin(), "moescope");
    std::vector<char*> argv;
    for (auto& s : args)
        argv.push_back(s.data());
    std::fflush(stdout);
    const int saved = ::dup(STDOUT_FILENO);
    std::FILE* tmp = std::tmpfile();
    ::dup2(::fileno(tmp), STDOUT_FILENO);
    const int code = run_cli(static_cast<int>(argv.size()), argv.data(), registry);
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    std::rewind(tmp);
    std::string out;
    for (int c; (c = std::fgetc(tmp)) != EOF;)
        out.push_back(static_cast<char>(c));
    std::fclose(tmp);
    return {code, out};
}

}  // namespace

TEST_CASE("a command is one file plus one registry line") {
    moe::test::TempDir dir;
    const std::string log = dir.file("run.csv");
    write_file(log, "layer_id,expert_ids\n0,1 2\n0,1 3\n1,0 2\n1,2 3\n");
    std::vector<const CommandSpec*> registry = command_registry();
    registry.push_back(&kToyCommand);

    SECTION("it runs through the real parsing and runner, with its own options") {
        const RecipeRun r = run(registry, {"toy", "--json", "--scale", "3", log});
        REQUIRE(r.code == kExitOk);
        simdjson::dom::parser p;
        const simdjson::dom::element doc = p.parse(r.out);
        CHECK(std::string_view(doc["tag"]) == "all");
        CHECK(int64_t(doc["layers"]) == 2);
        CHECK(int64_t(doc["scaled"]) == 6);
        CHECK(bool(doc["sequence_kept"]) == false);
        CHECK(doc["quality"].error() == simdjson::SUCCESS);  // what every JSON carries
    }
    SECTION("needs declared by its options reach the runner") {
        const RecipeRun r = run(registry, {"toy", "--json", "--sequence", log});
        REQUIRE(r.code == kExitOk);
        simdjson::dom::parser p;
        CHECK(bool(p.parse(r.out)["sequence_kept"]) == true);
    }
    SECTION("the shared behaviour comes with it: text, CSV, checks, help") {
        CHECK(run(registry, {"toy", log}).out == "2 layers\n");
        CHECK(run(registry, {"toy", "--csv", log}).out == "layers\n2\n");
        CHECK(run(registry, {"toy", "--tag", "nope", log}).code == kExitNoData);
        CHECK(run(registry, {"toy", "--scale", "x", log}).code == kExitUsage);
        CHECK(run(registry, {"--help"}).out.find("Layers of --tag, times --scale") !=
              std::string::npos);
    }
    SECTION("the built-in registry is untouched") {
        CHECK(find_command("toy") == nullptr);
        CHECK(run(command_registry(), {"toy", log}).code == kExitUsage);
    }
}

namespace {

// A command that follows single tokens (docs/ARCHITECTURE.md "Adding a command"): it sees
// each accepted record with the index of the FILE argument it came from.
struct CountArgs final : CommandOptions {
    std::vector<std::pair<size_t, int64_t>> seen;  // (input, pass)
    bool done = false;
    bool observes() const override { return true; }
    void observe(const Aggregates&, size_t input, TagId, const RoutingRecord& r) override {
        seen.emplace_back(input, r.pass);
    }
    void inputs_done() override { done = true; }
};

extern const CommandSpec kCountCommand = {
    "count",
    "Records per FILE argument",
    [](CLI::App& app, CommandArgs& a) {
        a.make_own<CountArgs>();
        flag::output(app, a);
        flag::files(app, a);
    },
    kNeedsNothing,
    [](JsonWriter& w, const Query& x) {
        const CountArgs& own = x.own<CountArgs>();
        w.field("done", own.done).key("seen").begin_array();
        for (const auto& [input, pass] : own.seen)
            w.begin_array().value(static_cast<uint64_t>(input)).value(pass).end_array();
        w.end_array();
    },
    [](const Query&) { return std::string("-\n"); },
    [](const Query&) { return std::string("-\n"); },
};

}  // namespace

TEST_CASE("a command that observes records gets them per FILE argument, in one pass") {
    moe::test::TempDir dir;
    const std::string a = dir.file("a.csv"), b = dir.file("b.csv");
    write_file(a, "layer_id,expert_ids\n0,1 2\n1,1 3\n0,0 2\n");
    write_file(b, "0,2 3\n");
    std::vector<const CommandSpec*> registry = command_registry();
    registry.push_back(&kCountCommand);
    const RecipeRun r = run(registry, {"count", "--json", "--threads", "4", a, b});
    REQUIRE(r.code == kExitOk);
    simdjson::dom::parser p;
    const simdjson::dom::element doc = p.parse(r.out);
    CHECK(bool(doc["done"]));
    std::vector<std::pair<int64_t, int64_t>> seen;
    for (simdjson::dom::element e : doc["seen"].get_array())
        seen.emplace_back(int64_t(e.at(0)), int64_t(e.at(1)));
    // a.csv: two passes (the layer drops back); b.csv starts its own stream. (Top-k
    // probation counts layer 1's first record last: compare in order.)
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::pair<int64_t, int64_t>>{{0, 0}, {0, 0}, {0, 1}, {1, 0}});
}
