#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <fstream>

#include "analytics/live_caches.hpp"
#include "ingest/stream_ingest.hpp"
#include "storage/store.hpp"
#include "storage/varint.hpp"
#include "temp_dir.hpp"

using namespace moe;

namespace {
void ingest(Aggregates& agg, SourceStats& s, const std::string& text) {
    StreamIngest in(agg, s, Format::auto_detect);
    in.feed(text);
    s.offset = in.consumed();
}

const std::string kLog =
    "layer_id,expert_ids\n0,1 2\n0,2 3\n1,0 3\n1,0 1\ngate_input,0,0,1 2 3\ngate_input,1,0,1 2 4\n"
    "junk line\n0,5 5\n";
}  // namespace

TEST_CASE("everything saved is loaded back identically") {
    test::TempDir dir;
    const std::string db = dir.file("m.db");
    AnalyticsOptions opts;
    opts.caches = {{OnlinePolicy::lru, 2}, {OnlinePolicy::lfu, 3}};
    Aggregates agg(opts);
    SourceStats s;
    s.name = "/var/log/x.log";
    s.kind = "file";
    s.tag = "code";
    s.file_id = "1:2";
    ingest(agg, s, kLog);
    LiveCaches().advance(agg);
    {
        Store store = Store::open_for_writing(db);
        SourceStats* ptr = &s;
        store.save(agg, std::span(&ptr, 1));
    }
    Store ro = Store::open_read_only(db);
    Aggregates back;
    ro.load(back);
    for (const std::string tag : {"all", "code"}) {
        const TagStats& a = agg.tag(*agg.find_tag(tag));
        const TagStats& b = back.tag(*back.find_tag(tag));
        REQUIRE(a.layer_ids() == b.layer_ids());
        for (int32_t l : a.layer_ids()) {
            CHECK(a.layer(l)->hits == b.layer(l)->hits);
            CHECK(a.layer(l)->tokens == b.layer(l)->tokens);
            CHECK(a.layer(l)->top_k == b.layer(l)->top_k);
            for (size_t e = 0; e < a.layer(l)->hits.size(); ++e)
                CHECK(a.layer(l)->ema.value(e) == Approx(b.layer(l)->ema.value(e)).epsilon(1e-15));
        }
        for (int32_t l : a.layer_ids()) {
            const auto& ca = a.layer(l)->caches.caches;
            const auto& cb = b.layer(l)->caches.caches;
            REQUIRE(ca.size() == 2);
            REQUIRE(cb.size() == 2);
            for (const OnlineCache& c : ca) {
                CacheSet copy = b.layer(l)->caches;
                const OnlineCache& d = copy.of(c.spec());
                CHECK(c.accesses == d.accesses);
                CHECK(c.hits == d.hits);
                CHECK(c.accesses > 0);
            }
        }
        CHECK(a.global.hits == b.global.hits);
        REQUIRE(a.gates.size() == b.gates.size());
        const auto& ga = a.gates.begin()->second;
        const auto& gb = b.gates.begin()->second;
        CHECK(ga.pairs == gb.pairs);
        for (size_t m = 0; m < kGateMetricCount; ++m) {
            CHECK(ga.metrics[m].n == gb.metrics[m].n);
            CHECK(ga.metrics[m].mean == gb.metrics[m].mean);
        }
    }
    CHECK(back.num_experts() == agg.num_experts());
    CHECK(back.gate_dim() == 3);
    const auto sources = ro.load_sources();
    REQUIRE(sources.size() == 1);
    CHECK(sources[0].name == s.name);
    CHECK(sources[0].offset == kLog.size());
    CHECK(sources[0].records == 4);
    CHECK(sources[0].tag == "code");
    CHECK(sources[0].file_id == "1:2");
    CHECK(sources[0].rejects[static_cast<size_t>(RejectReason::duplicate_expert)] == 1);
    CHECK(sources[0].reject_samples[static_cast<size_t>(RejectReason::duplicate_expert)] ==
          std::vector<std::string>{"0,5 5"});
    CHECK(sources[0].skipped_samples == std::vector<std::string>{"junk line"});
}

TEST_CASE("database files are created without world access, in WAL mode, versioned") {
    test::TempDir dir;
    const std::string db = dir.file("m.db");
    Store store = Store::open_for_writing(db);
    struct stat st {};
    REQUIRE(::stat(db.c_str(), &st) == 0);
    CHECK((st.st_mode & 0007) == 0);
    CHECK(store.db().query_int("PRAGMA user_version") == Store::kSchemaVersion);
    auto q = store.db().prepare("PRAGMA journal_mode");
    REQUIRE(q.step());
    CHECK(q.text(0) == "wal");
}

TEST_CASE("clear errors for a missing, foreign or newer database") {
    test::TempDir dir;
    CHECK_THROWS_WITH(Store::open_read_only(dir.file("nope.db")),
                      Catch::Contains("does not exist"));
    {
        sql::Database foreign(dir.file("foreign.db"), sql::Database::Mode::read_write_create);
        foreign.exec("CREATE TABLE t(x)");
    }
    CHECK_THROWS_WITH(Store::open_for_writing(dir.file("foreign.db")),
                      Catch::Contains("not a moescope"));
    CHECK_THROWS_WITH(Store::open_read_only(dir.file("foreign.db")),
                      Catch::Contains("not a moescope"));
    {
        Store s = Store::open_for_writing(dir.file("new.db"));
        s.db().exec("PRAGMA user_version = 99");
    }
    CHECK_THROWS_WITH(Store::open_read_only(dir.file("new.db")), Catch::Contains("newer"));
    std::ofstream(dir.file("text.db"))
        << "this is not sqlite at all, just some text padding padding";
    CHECK_THROWS(Store::open_read_only(dir.file("text.db")));
}

TEST_CASE("the read-only store never writes") {
    test::TempDir dir;
    { Store::open_for_writing(dir.file("m.db")); }
    Store ro = Store::open_read_only(dir.file("m.db"));
    Aggregates agg;
    CHECK_THROWS(ro.save(agg, {}));
}

TEST_CASE("varint blobs round-trip and refuse truncated input") {
    const std::vector<uint64_t> v = {0, 1, 127, 128, 300, 1ull << 35, UINT64_MAX};
    const std::string enc = encode_varints(v);
    CHECK(enc.size() == 1 + 1 + 1 + 2 + 2 + 6 + 10);
    auto dec = decode_varints(std::as_bytes(std::span(enc.data(), enc.size())));
    REQUIRE(dec);
    CHECK(*dec == v);
    CHECK_FALSE(decode_varints(std::as_bytes(std::span(enc.data(), enc.size() - 1))));
}

TEST_CASE("every database has its own id; reset empties it and gives it a new one") {
    test::TempDir dir;
    Aggregates agg;
    SourceStats s;
    s.name = "x";
    ingest(agg, s, kLog);
    std::string first;
    {
        Store store = Store::open_for_writing(dir.file("m.db"));
        first = store.database_id();
        CHECK(first.size() == 32);
        SourceStats* ptr = &s;
        store.save(agg, std::span(&ptr, 1));
        store.set_merged_ids({"aa", "bb"});
    }
    {
        Store again = Store::open_for_writing(dir.file("m.db"));
        CHECK(again.database_id() == first);  // made once, kept
        CHECK(again.merged_ids() == std::vector<std::string>{"aa", "bb"});
        CHECK(Store::open_for_writing(dir.file("other.db")).database_id() != first);
        again.reset();
        CHECK(again.database_id().size() == 32);
        CHECK(again.database_id() != first);
        CHECK(again.merged_ids().empty());
        ModelFacts f;
        CHECK_FALSE(again.read_facts(f));
        CHECK(again.load_sources().empty());
        Aggregates back;
        again.load(back);
        CHECK(back.tag(kAllTag).layer_ids().empty());
    }
}

TEST_CASE("a corrupt row names the table and column") {
    test::TempDir dir;
    Aggregates agg;
    SourceStats s;
    ingest(agg, s, kLog);
    Store store = Store::open_for_writing(dir.file("m.db"));
    store.save(agg, {});
    store.db().exec("UPDATE layer_stats SET ema = x'0102' WHERE layer = 0");
    Aggregates back;
    CHECK_THROWS_WITH(store.load(back),
                      Catch::Contains("corrupt layer_stats row") && Catch::Contains("m.db"));
    store.db().exec("UPDATE layer_stats SET ema = hits, hist_probs = x'00' WHERE layer = 0");
    Aggregates back2;
    CHECK_THROWS_WITH(store.load(back2), Catch::Contains("(hist_probs)"));
}

TEST_CASE("a database from before the live_cache table is read, and gets it when written") {
    test::TempDir dir;
    const std::string db = dir.file("old.db");
    Aggregates agg;
    SourceStats s;
    s.name = "x";
    s.kind = "file";
    ingest(agg, s, kLog);
    {
        Store store = Store::open_for_writing(db);
        SourceStats* ptr = &s;
        store.save(agg, std::span(&ptr, 1));
    }
    {
        sql::Database raw(db, sql::Database::Mode::read_write_create);
        raw.exec("DROP TABLE live_cache");
        CHECK_FALSE(raw.has_table("live_cache"));
    }
    Aggregates back;
    Store::open_read_only(db).load(back);
    CHECK(back.tag(kAllTag).layer_ids() == agg.tag(kAllTag).layer_ids());
    { Store store = Store::open_for_writing(db); }
    CHECK(sql::Database(db, sql::Database::Mode::read_only).has_table("live_cache"));
}

TEST_CASE("a schema 1 database (no top-1 counts) is migrated by a writer, refused read-only") {
    test::TempDir dir;
    const std::string db = dir.file("v1.db");
    Aggregates agg;
    SourceStats s;
    s.name = "x.log";
    ingest(agg, s, kLog);
    {
        Store store = Store::open_for_writing(db);
        SourceStats* ptr = &s;
        store.save(agg, std::span(&ptr, 1));
        // What version 1 wrote: the same tables without layer_stats.top1 and .counted and
        // without live_cache.
        store.db().exec("ALTER TABLE layer_stats DROP COLUMN top1");
        store.db().exec("ALTER TABLE layer_stats DROP COLUMN counted");
        store.db().exec("DROP TABLE live_cache");
        store.db().exec("PRAGMA user_version = 1");
    }
    CHECK_THROWS_WITH(Store::open_read_only(db), Catch::Contains("older"));
    { Store::open_for_writing(db); }
    Store ro = Store::open_read_only(db);
    Aggregates back;
    ro.load(back);
    const LayerStats* l0 = back.tag(kAllTag).layer(0);
    REQUIRE(l0);
    CHECK(l0->hits == agg.tag(kAllTag).layer(0)->hits);
    CHECK(l0->top1 == std::vector<uint64_t>(l0->hits.size(), 0));  // unknown, not invented
    CHECK(agg.tag(kAllTag).layer(0)->top1[1] + agg.tag(kAllTag).layer(0)->top1[2] == 2);
}
