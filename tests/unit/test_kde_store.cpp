#include <catch2/catch.hpp>

#include "storage/kde_store.hpp"
#include "storage/store.hpp"
#include "temp_dir.hpp"

using namespace moe;

namespace {
rows::KdeRow fit(std::string tag, int32_t layer, double h) {
    return {std::move(tag), layer, "top1_weight", 10, h, 0.1, 0.9, {0.0, 0.25, 1.0}, 5.0};
}
}  // namespace

TEST_CASE("stored KDE fits come back per tag and value, and a refit replaces every layer") {
    test::TempDir dir;
    const std::string db = dir.file("fit.db");
    {
        Store store = Store::open_for_writing(db);
        save_kde_fits(store.db(), {fit("ref", 0, 0.01), fit("ref", 3, 0.02)});
        save_kde_fits(store.db(), {fit("other", 0, 0.5)});
    }
    Store reader = Store::open_read_only(db);
    const auto got = load_kde_fits(reader.db(), "ref", "top1_weight");
    REQUIRE(got.size() == 2);
    CHECK(got[0].layer == 0);
    CHECK(got[1].layer == 3);
    CHECK(got[1].bandwidth == 0.02);
    CHECK(got[1].cdf == std::vector<double>{0.0, 0.25, 1.0});
    CHECK(got[1].n == 10);
    CHECK(load_kde_fits(reader.db(), "ref", "top2_weight").empty());
    CHECK(kde_fit_tags(reader.db(), "top1_weight") == std::vector<std::string>{"other", "ref"});
    {
        Store store = Store::open_for_writing(db);
        save_kde_fits(store.db(), {fit("ref", 1, 0.03)});
    }
    const auto again = load_kde_fits(Store::open_read_only(db).db(), "ref", "top1_weight");
    REQUIRE(again.size() == 1);
    CHECK(again[0].layer == 1);
}

TEST_CASE("a database without the kde_fit table reads as no fits; a corrupt row is an error") {
    test::TempDir dir;
    const std::string db = dir.file("old.db");
    {
        Store store = Store::open_for_writing(db);
        store.db().exec("DROP TABLE kde_fit");
    }
    CHECK(load_kde_fits(Store::open_read_only(db).db(), "ref", "top1_weight").empty());
    {
        Store store = Store::open_for_writing(db);  // a writer adds the table again
        save_kde_fits(store.db(), {fit("ref", 0, 0.01)});
        store.db().exec("UPDATE kde_fit SET hi = lo");
    }
    CHECK_THROWS_AS(load_kde_fits(Store::open_read_only(db).db(), "ref", "top1_weight"),
                    sql::StorageError);
}

TEST_CASE("a kde_fit table from before the expert column reads as expert -1 and gains it") {
    test::TempDir dir;
    const std::string db = dir.file("before.db");
    {
        Store store = Store::open_for_writing(db);
        save_kde_fits(store.db(), {fit("ref", 0, 0.01)});
        // The table as moescope wrote it before the column existed (same schema version).
        store.db().exec("ALTER TABLE kde_fit DROP COLUMN expert");
    }
    REQUIRE_FALSE(Store::open_read_only(db).db().has_column("kde_fit", "expert"));
    const auto old = load_kde_fits(Store::open_read_only(db).db(), "ref", "top1_weight");
    REQUIRE(old.size() == 1);
    CHECK(old[0].expert == -1);
    CHECK(old[0].bandwidth == 0.01);
    {
        Store store = Store::open_for_writing(db);  // the writer adds the column
        CHECK(store.db().has_column("kde_fit", "expert"));
        auto row = fit("ref", 2, 0.04);
        row.value = "popular3_weight";
        row.expert = 17;
        save_kde_fits(store.db(), {row});
    }
    Store reader = Store::open_read_only(db);
    CHECK(load_kde_fits(reader.db(), "ref", "top1_weight").at(0).expert == -1);
    const auto got = load_kde_fits(reader.db(), "ref", "popular3_weight");
    REQUIRE(got.size() == 1);
    CHECK(got[0].expert == 17);
    CHECK(got[0].layer == 2);
}
