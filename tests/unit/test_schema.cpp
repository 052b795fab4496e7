#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "storage/tables.hpp"

using namespace moe;

// docs/SCHEMA.md is the interface promise: every table's column list (and the meta keys)
// generated from storage/tables.cpp must appear in it verbatim.
TEST_CASE("docs/SCHEMA.md documents every table column and meta key") {
    std::ifstream in(MOESCOPE_SOURCE_DIR "/docs/SCHEMA.md");
    REQUIRE(in);
    std::stringstream doc;
    doc << in.rdbuf();
    for (const auto& [table, markdown] : rows::schema_markdown()) {
        INFO("section for " << table << " should read:\n" << markdown);
        CHECK(doc.str().find(markdown) != std::string::npos);
    }
}

TEST_CASE("the generated statements name every column once, in order") {
    const auto& t = rows::timeline_table();
    CHECK(t.select_sql("bucket") ==
          "SELECT tag, layer, bucket, seconds, tokens, hits FROM timeline ORDER BY bucket");
    CHECK(t.insert_sql() ==
          "INSERT OR REPLACE INTO timeline(tag, layer, bucket, seconds, tokens, hits) "
          "VALUES(?,?,?,?,?,?)");
    CHECK(t.create_sql().find("PRIMARY KEY(tag, layer, bucket)) WITHOUT ROWID") !=
          std::string::npos);
}
