#include <catch2/catch.hpp>

#include "ingest/stream_ingest.hpp"
#include "storage/store.hpp"
#include "temp_dir.hpp"

using namespace moe;

namespace {
void feed(Aggregates& agg, const std::string& text) {
    SourceStats s;
    StreamIngest in(agg, s, Format::auto_detect);
    in.feed(text);
    in.finish();
}

const FactField& field(std::string_view key) {
    for (const FactField& f : fact_fields())
        if (f.key == key) return f;
    FAIL("no fact " << key);
    return fact_fields()[0];
}

// Every fact learned or stated: a meta record, a record with logits, a gate vector.
const std::string kFacts =
    "{\"type\": \"meta\", \"model_id\": \"m/x\", \"num_experts\": 4, \"top_k\": 2}\n"
    "{\"layer\": 0, \"experts\": [1, 2], \"logits\": [0.1, 0.2, 0.3, 0.4]}\n"
    "{\"type\": \"gate_input\", \"layer\": 0, \"values\": [1, 2, 3]}\n";

AnalyticsOptions non_default_options() {
    AnalyticsOptions o;
    o.ema_decay = 0.999;
    o.bucket_seconds = 30;
    o.max_tags = 7;
    return o;
}
}  // namespace

TEST_CASE("every model fact is saved and loaded back") {
    test::TempDir dir;
    Aggregates agg(non_default_options());
    feed(agg, kFacts);
    const ModelFacts defaults;
    for (const FactField& f : fact_fields())  // so the round trip below covers every fact
        CHECK(std::string(f.key) + " " + fact_text(agg.facts(), f) !=
              std::string(f.key) + " " + fact_text(defaults, f));
    { Store::open_for_writing(dir.file("m.db")).save(agg, {}); }

    Store ro = Store::open_read_only(dir.file("m.db"));
    ModelFacts back;
    REQUIRE(ro.read_facts(back));
    for (const FactField& f : fact_fields())
        CHECK(fact_text(back, f) == fact_text(agg.facts(), f));
    CHECK(back.ema_decay == 0.999);  // exact: stored in the shortest round-trip form

    Aggregates loaded;  // a query: takes the stored facts, keeps its own limits
    ro.load(loaded);
    CHECK(loaded.facts().ema_decay == 0.999);
    CHECK(loaded.facts().logits_len == 4);
    CHECK(loaded.facts().top_k == 2);
    CHECK(loaded.timeline().bucket_seconds() == 30);
    CHECK(loaded.facts().max_tags == AnalyticsOptions{}.max_tags);
    // Restored facts still govern new records: another top-k or logit length is rejected.
    SourceStats s;
    StreamIngest in(loaded, s, Format::auto_detect);
    in.feed(
        "{\"layer\": 1, \"experts\": [1, 2, 3]}\n{\"layer\": 1, \"experts\": [0, 1], "
        "\"logits\": [1, 2, 3]}\n{\"layer\": 1, \"experts\": [0, 3]}\n");
    CHECK(s.rejects[static_cast<size_t>(RejectReason::topk_changed)] == 1);
    CHECK(s.rejects[static_cast<size_t>(RejectReason::wrong_vector_length)] == 1);
    CHECK(s.records == 1);
}

TEST_CASE("a new database stores no facts") {
    test::TempDir dir;
    { Store::open_for_writing(dir.file("m.db")); }
    ModelFacts f;
    f.ema_decay = 0.5;
    CHECK_FALSE(Store::open_read_only(dir.file("m.db")).read_facts(f));
    CHECK(f.ema_decay == 0.5);
}

TEST_CASE("fact texts round-trip and bad ones are refused") {
    ModelFacts f;
    REQUIRE(set_fact(f, field("ema_decay"), "0.9999999"));
    CHECK(f.ema_decay == 0.9999999);
    CHECK(fact_text(f, field("ema_decay")) == "0.9999999");
    CHECK(set_fact(f, field("ema_decay"), "0.999990"));  // as an older moescope wrote it
    CHECK(f.ema_decay == 0.99999);
    CHECK_FALSE(set_fact(f, field("bucket_seconds"), "60s"));
    CHECK_FALSE(set_fact(f, field("num_experts"), "-1"));
    CHECK_FALSE(set_fact(f, field("num_experts_stated"), "yes"));
    CHECK(f.bucket_seconds == 60);
}

TEST_CASE("conflicting facts: settings must match, learned ones once known") {
    ModelFacts a, b;
    CHECK_FALSE(find_conflict(a, b));
    b.ema_decay = 0.999;
    auto c = find_conflict(a, b);
    REQUIRE(c);
    CHECK(c->field->key == "ema_decay");
    CHECK(c->field->option == "--ema-decay");
    CHECK(c->ours == "0.99999");
    CHECK(c->theirs == "0.999");

    b = a;
    b.bucket_seconds = 300;
    REQUIRE(find_conflict(a, b));
    CHECK(find_conflict(a, b)->field->option == "--bucket-s");

    b = a;
    b.gate_dim = 4096;  // unknown on one side: no conflict
    CHECK_FALSE(find_conflict(a, b));
    a.gate_dim = 2048;
    REQUIRE(find_conflict(a, b));
    CHECK(find_conflict(a, b)->field->key == "gate_dim");

    a = b = ModelFacts{};
    a.max_tags = 1;  // a limit of one process
    CHECK_FALSE(find_conflict(a, b));
}

TEST_CASE("expert counts: stated ones equal, inferred ones fit") {
    ModelFacts stated8, stated16, seen6, seen9;
    stated8.num_experts = 8, stated8.num_experts_stated = true;
    stated16.num_experts = 16, stated16.num_experts_stated = true;
    seen6.num_experts = 6;
    seen9.num_experts = 9;
    CHECK_FALSE(find_conflict(stated8, seen6));
    CHECK_FALSE(find_conflict(seen6, stated8));
    CHECK_FALSE(find_conflict(seen6, seen9));
    REQUIRE(find_conflict(stated8, stated16));
    CHECK(find_conflict(stated8, stated16)->theirs == "16");
    REQUIRE(find_conflict(stated8, seen9));
    CHECK(find_conflict(stated8, seen9)->theirs == "9 (largest id + 1)");

    ModelFacts f = seen6;
    combine(f, seen9);
    CHECK((f.num_experts == 9 && !f.num_experts_stated));
    combine(f, stated16);
    CHECK((f.num_experts == 16 && f.num_experts_stated));
    combine(f, seen6);
    CHECK(f.num_experts == 16);
}

TEST_CASE("combining takes settings and what is still unknown, keeps local limits") {
    ModelFacts into, from;
    into.gate_dim = 3;
    into.max_tags = 5;
    from.gate_dim = 7;
    from.model_id = "m";
    from.ema_decay = 0.5;
    from.max_tags = 9;
    combine(into, from);
    CHECK(into.gate_dim == 3);
    CHECK(into.model_id == "m");
    CHECK(into.ema_decay == 0.5);
    CHECK(into.max_tags == 5);
}

TEST_CASE("merging aggregates refuses different facts and changes nothing") {
    AnalyticsOptions o;
    o.ema_decay = 0.999;
    Aggregates a, b(o), c;
    feed(a, "0,1 2\n");
    feed(b, "0,1 2\n");
    CHECK(a.merge(b).value() == "ema_decay 0.99999 vs 0.999");
    CHECK(a.tag(kAllTag).layer(0)->tokens == 1);
    feed(c, "{\"type\": \"meta\", \"model_id\": \"other\"}\n0,1 3\n");
    feed(a, "{\"type\": \"meta\", \"model_id\": \"mine\"}\n");
    CHECK(a.merge(c).value() == "model_id mine vs other");
    Aggregates d;
    feed(d, "{\"layer\": 0, \"experts\": [0, 1], \"logits\": [1, 2, 3]}\n");
    REQUIRE_FALSE(a.merge(d));
    CHECK(a.facts().logits_len == 3);
    CHECK(a.tag(kAllTag).layer(0)->tokens == 2);
}
