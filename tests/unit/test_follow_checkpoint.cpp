#include <catch2/catch.hpp>

#include "daemon/follow_checkpoint.hpp"

using namespace moe;

TEST_CASE("follow checkpoint: the fingerprint travels with the parser state") {
    const Fingerprint fp = fingerprint_of("0,1 2\n0,3 4\n");
    CHECK(fp.length == 12);
    CHECK(fp != fingerprint_of("0,1 2\n0,3 5\n"));  // one byte differs
    const std::string state("\x01\x02\0pending", 10);
    const FollowCheckpoint back = decode_follow_checkpoint(encode_follow_checkpoint(fp, state));
    REQUIRE(back.fingerprint);
    CHECK(*back.fingerprint == fp);
    CHECK(back.ingest_state == state);
}

TEST_CASE("follow checkpoint: a state from before fingerprints is all parser state") {
    const std::string legacy("\x4d\x4f\x45\x53rest", 8);
    const FollowCheckpoint back = decode_follow_checkpoint(legacy);
    CHECK_FALSE(back.fingerprint);
    CHECK(back.ingest_state == legacy);
    CHECK(decode_follow_checkpoint("").ingest_state.empty());
}
