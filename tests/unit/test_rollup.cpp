// Timeline storage (docs/SCHEMA.md "Encodings", "Roll-ups"): sparse varint hits, the
// version 3 migration, and roll-ups that keep every count.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>

#include "storage/row_codec.hpp"
#include "storage/store.hpp"
#include "storage/varint.hpp"
#include "temp_dir.hpp"

using namespace moe;

namespace {

std::span<const std::byte> bytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

constexpr int64_t kNow = 1'795'000'000;  // 2026-11-18T09:46:40Z
constexpr size_t kRollupExperts = 16;

// Minute buckets for two layers and layer -1 at the given ages (seconds before kNow),
// with a few random non-zero experts each, as the daemon writes them.
void minute_buckets(Aggregates& agg, const std::vector<int64_t>& ages, uint32_t seed) {
    std::mt19937_64 rng(seed);
    for (int64_t age : ages) {
        const int64_t start = (kNow - age) / 60 * 60;
        for (int32_t layer : {-1, 0, 3}) {
            BucketCounts c{60, 0, std::vector<uint64_t>(kRollupExperts, 0)};
            c.tokens = 1 + rng() % 50;
            for (int i = 0; i < 3; ++i)
                c.hits[rng() % kRollupExperts] += 1 + rng() % 1000;
            agg.timeline().add_counts({kAllTag, layer, start}, c);
        }
    }
}

// Ages (seconds before kNow) from each {from, to, step} range, to - step at most.
struct AgeRange {
    int64_t from, to, step;
};
std::vector<int64_t> ages_in(std::initializer_list<AgeRange> ranges) {
    std::vector<int64_t> ages;
    for (const AgeRange& r : ranges)
        for (int64_t a = r.from; a < r.to; a += r.step)
            ages.push_back(a);
    return ages;
}

std::map<BucketKey, BucketCounts> stored(const Store& s) {
    Aggregates back;
    s.load_timeline(back);
    return back.timeline().buckets();
}

// Sums per (layer) over every bucket: what any window covering everything must show.
std::map<int32_t, std::pair<uint64_t, std::vector<uint64_t>>> totals(
    const std::map<BucketKey, BucketCounts>& buckets) {
    std::map<int32_t, std::pair<uint64_t, std::vector<uint64_t>>> t;
    for (const auto& [k, b] : buckets) {
        auto& [tokens, hits] = t[k.layer];
        tokens += b.tokens;
        hits.resize(std::max(hits.size(), b.hits.size()), 0);
        for (size_t e = 0; e < b.hits.size(); ++e)
            hits[e] += b.hits[e];
    }
    return t;
}

}  // namespace

TEST_CASE("sparse counts keep only the non-zero experts and round-trip exactly") {
    const std::vector<std::vector<uint64_t>> cases = {
        {}, {0, 0, 0}, {5}, {0, 0, 7, 0, 1ull << 40, 0, 0, 1}, {UINT64_MAX, 0, 1}};
    for (const auto& v : cases) {
        const std::string enc = encode_sparse_counts(v);
        const auto dec = decode_sparse_counts(bytes(enc));
        REQUIRE(dec);
        CHECK(*dec == v);
    }
    // E = 8, n = 3, (2, 7), (1, 2^40: 6 bytes), (1, 1): 1 + 1 + 2 + 7 + 2 bytes.
    CHECK(encode_sparse_counts(cases[3]).size() == 13);
    std::vector<uint64_t> wide(256, 0);
    wide[200] = 3;
    CHECK(encode_sparse_counts(wide).size() == 2 + 1 + 2 + 1);  // 256 and 200 take 2 bytes
}

TEST_CASE("malformed sparse counts are refused, never half read") {
    const auto refused = [](std::vector<uint64_t> words) {
        return !decode_sparse_counts(bytes(encode_varints(words)));
    };
    CHECK(refused({}));                        // no length
    CHECK(refused({4}));                       // no count
    CHECK(refused({4, 1, 4, 1}));              // expert 4 of 4
    CHECK(refused({4, 2, 1, 1, 2, 1}));        // 1, then 1 + 1 + 2 = 4: out of range
    CHECK(refused({4, 1, 0, 0}));              // a stored zero
    CHECK(refused({4, 1, 0, 1, 9}));           // trailing value
    CHECK(refused({4, 2, 0, 1}));              // a pair missing
    CHECK(refused({4, 5, 0, 1}));              // more non-zero than experts
    CHECK_FALSE(refused({4, 2, 0, 1, 2, 1}));  // experts 0 and 3
    const std::string enc = encode_sparse_counts(std::vector<uint64_t>{0, 300});
    CHECK_FALSE(decode_sparse_counts(bytes(enc.substr(0, enc.size() - 1))));
}

TEST_CASE("timeline buckets are stored sparse and increments add to them") {
    test::TempDir dir;
    Store store = Store::open_for_writing(dir.file("t.db"));
    Aggregates a;
    minute_buckets(a, {100, 200, 200}, 1);  // the same minute twice: one bucket
    const auto want_once = a.timeline().buckets();
    store.save(a, {});
    CHECK(stored(store) == want_once);
    Aggregates again;
    minute_buckets(again, {100, 200, 200}, 1);
    store.save(again, {});
    for (const auto& [k, b] : stored(store)) {
        const BucketCounts& w = want_once.at(k);
        CHECK(b.tokens == 2 * w.tokens);
        for (size_t e = 0; e < kRollupExperts; ++e)
            CHECK(b.hits[e] == 2 * w.hits[e]);
    }
    // Sparse: at most 6 non-zero experts (two minutes of 3), a gap byte and a count of at
    // most 2 * 3 * 1000 (two bytes) each, where uint64 per expert took 16 * 8 bytes.
    CHECK(store.db().query_int("SELECT max(length(hits)) FROM timeline") <= 2 + 6 * 3);
}

TEST_CASE("a schema 2 database (uint64 timeline hits) is re-encoded by a writer") {
    test::TempDir dir;
    const std::string db = dir.file("v2.db");
    Aggregates a;
    minute_buckets(a, {100, 5000, 90000}, 2);
    const auto want = a.timeline().buckets();
    {
        Store store = Store::open_for_writing(db);
        store.save(a, {});
        // What version 2 wrote: every hits blob as uint64 per expert.
        auto q = store.db().prepare(
            "UPDATE timeline SET hits = ? WHERE tag = 'all' AND layer = ? AND bucket = ?");
        for (const auto& [k, b] : want) {
            q.bind_blob(1, rows::as_bytes(b.hits)).bind(2, int64_t{k.layer}).bind(3, k.start);
            q.run();
        }
        store.db().exec("PRAGMA user_version = 2");
    }
    CHECK_THROWS_WITH(Store::open_read_only(db), Catch::Contains("schema version 2"));
    { Store::open_for_writing(db); }
    Store ro = Store::open_read_only(db);
    CHECK(ro.db().query_int("PRAGMA user_version") == 3);
    CHECK(stored(ro) == want);
}

TEST_CASE("roll-ups make hour and day buckets that keep every count") {
    test::TempDir dir;
    Store store = Store::open_for_writing(dir.file("r.db"));
    // Ages: the last hour, 25 h to 27 h ago (hour buckets), 31 to 33 days ago (day buckets).
    const std::vector<int64_t> ages =
        ages_in({{0, 3600, 60}, {25 * 3600, 27 * 3600, 60}, {31 * 86400, 33 * 86400, 600}});
    Aggregates a;
    minute_buckets(a, ages, 3);
    const auto before = a.timeline().buckets();
    store.save(a, {});  // no roll-up set: minute buckets as written
    CHECK(stored(store) == before);

    // The daemon's defaults (hours after a day, days after 30), at kNow; not set_rollup(),
    // which would roll up at each hour's first save by the real clock.
    const int64_t hour_cut = (kNow - 86400) / 3600 * 3600;
    const int64_t day_cut = (kNow - 30 * 86400) / 86400 * 86400;
    // Folded: the minute rows before hour_cut, then the hour rows they made before day_cut.
    int64_t folded = 0;
    std::set<std::pair<int32_t, int64_t>> old_hours;
    for (const auto& [k, b] : before) {
        folded += k.start < hour_cut;
        if (k.start < day_cut) old_hours.insert({k.layer, k.start / 3600});
    }
    CHECK(store.rollup(kNow) == folded + static_cast<int64_t>(old_hours.size()));
    const auto after = stored(store);
    CHECK(totals(after) == totals(before));
    std::map<int64_t, size_t> widths;
    for (const auto& [k, b] : after) {
        ++widths[b.seconds];
        const int64_t w = k.start < day_cut ? 86400 : k.start < hour_cut ? 3600 : 60;
        CHECK(b.seconds == w);
        CHECK(k.start % w == 0);
        // Each wide bucket is the sum of the minute buckets that start in it.
        uint64_t tokens = 0;
        for (const auto& [k0, b0] : before)
            if (k0.layer == k.layer && k0.start >= k.start && k0.start < k.start + b.seconds)
                tokens += b0.tokens;
        CHECK(b.tokens == tokens);
    }
    CHECK(widths[60] == 60 * 3);
    CHECK(widths[86400] == 3 * 3);  // 31-33 days ago: 2 days of 600 s steps touch 3 UTC days
    CHECK(widths[3600] == 3 * 3);   // 25-27 h ago, not on hour boundaries: 3 hours

    // Again at the same time: nothing left to fold. A late record's minute bucket in a
    // rolled-up hour is added to the hour at the next roll-up.
    CHECK(store.rollup(kNow) == 0);
    // The second age is the start of an hour: its minute row is added to the hour row by
    // the save itself (same key), keeping the hour's width.
    Aggregates late;
    minute_buckets(late, {26 * 3600, 26 * 3600 + 400}, 4);
    REQUIRE((kNow - 26 * 3600 - 400) % 3600 == 0);
    auto want = totals(before);
    for (const auto& [layer, t] : totals(late.timeline().buckets())) {  // before save empties it
        want[layer].first += t.first;
        for (size_t e = 0; e < t.second.size(); ++e)
            want[layer].second[e] += t.second[e];
    }
    store.save(late, {});
    CHECK(store.rollup(kNow) == 3);
    const auto final_buckets = stored(store);
    CHECK(totals(final_buckets) == want);
    CHECK(final_buckets.size() == after.size());
}

TEST_CASE("roll-ups of 0 keep minute buckets") {
    test::TempDir dir;
    Store store = Store::open_for_writing(dir.file("z.db"));
    Aggregates a;
    minute_buckets(a, {40 * 86400, 2 * 86400}, 5);
    const auto before = a.timeline().buckets();
    store.save(a, {});
    store.set_rollup({0, 0});
    CHECK(store.rollup(kNow) == 0);
    CHECK(stored(store) == before);
}

TEST_CASE("a summed window load gives the per-bucket window's totals and span in a few buckets") {
    // `layers --since` needs window totals only: Store::Window::summed adds each (tag,
    // layer)'s buckets into one. Mixed widths (day, hour, minute rows after a roll-up) and
    // windows that hold the first or last bucket, or neither, or nothing.
    test::TempDir dir;
    Store store = Store::open_for_writing(dir.file("w.db"));
    const std::vector<int64_t> ages =
        ages_in({{0, 7200, 120}, {25 * 3600, 40 * 3600, 300}, {31 * 86400, 40 * 86400, 3000}});
    Aggregates a;
    minute_buckets(a, ages, 7);
    store.save(a, {});
    REQUIRE(store.rollup(kNow) > 0);

    // What apply_window (cli/command_runner.cpp) computes from a loaded timeline.
    struct Seen {
        std::map<int32_t, std::pair<uint64_t, std::vector<uint64_t>>> layers;
        std::map<int32_t, uint32_t> top_k;  // S / T over the window
        int64_t first = 0, last = 0;
        size_t buckets = 0;
    };
    const auto window = [&](int64_t since, int64_t until, Store::Window how) {
        Aggregates agg;
        store.load_timeline_window(agg, since, until, how);
        Seen s;
        s.buckets = agg.timeline().buckets().size();
        s.first = agg.timeline().buckets().begin()->first.start;
        for (const auto& [k, b] : agg.timeline().buckets())
            s.last = std::max(s.last, k.start + b.seconds);
        agg.restrict_to_window(since, until);
        TagStats& t = agg.tag(kAllTag);
        s.layers[-1] = {t.global.tokens, t.global.hits};
        s.top_k[-1] = t.global.top_k;
        for (int32_t l : t.layer_ids()) {
            s.layers[l] = {t.layer(l)->tokens, t.layer(l)->hits};
            s.top_k[l] = t.layer(l)->top_k;
        }
        return s;
    };
    const int64_t h = 3600, d = 86400;
    for (const auto& [since, until] :
         std::vector<std::pair<int64_t, int64_t>>{{INT64_MIN, INT64_MAX},
                                                  {kNow - 35 * d, INT64_MAX},
                                                  {kNow - 30 * h, kNow - 26 * h},
                                                  {INT64_MIN, kNow - 32 * d},
                                                  {kNow - h, kNow + h},
                                                  {kNow + d, kNow + 2 * d}}) {
        INFO("window [" << since << ", " << until << ")");
        const Seen each = window(since, until, Store::Window::per_bucket);
        const Seen summed = window(since, until, Store::Window::summed);
        CHECK(summed.layers == each.layers);
        CHECK(summed.top_k == each.top_k);
        CHECK(summed.first == each.first);
        CHECK(summed.last == each.last);
        CHECK(summed.buckets <= 3 + 2 * 3);  // layers -1, 0, 3; the edge buckets of each
        if (each.layers.at(-1).first > 0) CHECK(each.buckets > summed.buckets);
    }
}
