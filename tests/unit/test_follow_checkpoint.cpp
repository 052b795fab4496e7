#include <catch2/catch.hpp>

#include <zlib.h>
#include <cstdio>
#include <fstream>

#include "daemon/follow_checkpoint.hpp"
#include "daemon/rotated_generations.hpp"
#include "temp_dir.hpp"

using namespace moe;

TEST_CASE("follow checkpoint: the marks and mtime travel with the parser state") {
    const Fingerprint fp = fingerprint_of("0,1 2\n0,3 4\n");
    CHECK(fp.length == 12);
    CHECK(fp != fingerprint_of("0,1 2\n0,3 5\n"));  // one byte differs
    const std::string state("\x01\x02\0pending", 10);
    FollowCheckpoint c;
    c.at = GenerationMark{fingerprint_of("0,1 2\n"), 12, fp};
    c.mtime_ns = 1796593263123456789;
    c.finished = {{fingerprint_of("a"), 1, fingerprint_of("a")},
                  {fingerprint_of("bc"), 7, fingerprint_of("xyz")}};
    c.ingest_state = state;
    const FollowCheckpoint back = decode_follow_checkpoint(encode_follow_checkpoint(c));
    REQUIRE(back.at);
    CHECK(*back.at == *c.at);
    CHECK(back.mtime_ns == c.mtime_ns);
    CHECK(back.finished == c.finished);
    CHECK(back.ingest_state == state);
}

TEST_CASE("follow checkpoint: older encodings are still read") {
    const std::string legacy("\x4d\x4f\x45\x53rest", 8);  // before fingerprints: all state
    FollowCheckpoint back = decode_follow_checkpoint(legacy);
    CHECK_FALSE(back.at);
    CHECK(back.ingest_state == legacy);
    CHECK(decode_follow_checkpoint("").ingest_state.empty());

    // MFP1: the fingerprint before the offset only.
    const Fingerprint fp = fingerprint_of("0,1 2\n");
    std::string mfp1("MFP1");
    mfp1.append(reinterpret_cast<const char*>(&fp.hash), 8);
    mfp1.append(reinterpret_cast<const char*>(&fp.length), 4);
    mfp1 += "state";
    back = decode_follow_checkpoint(mfp1);
    REQUIRE(back.at);
    CHECK(back.at->before_end == fp);
    CHECK(back.at->head.length == 0);  // unknown: never taken for a copy
    CHECK(back.mtime_ns == 0);
    CHECK(back.ingest_state == "state");
}

TEST_CASE("follow checkpoint: a cut MFP2 state is refused as a whole") {
    FollowCheckpoint c;
    c.at = GenerationMark{};
    c.finished.resize(3);
    const std::string whole = encode_follow_checkpoint(c);
    for (size_t cut = 4; cut < whole.size(); cut += 7) {
        const FollowCheckpoint back = decode_follow_checkpoint(whole.substr(0, cut));
        CHECK_FALSE(back.at);
        CHECK(back.ingest_state == whole.substr(0, cut));
    }
}

TEST_CASE("rotated names: the generations logrotate and others leave beside a file") {
    for (const char* name : {"f.log.1", "f.log.12", "f.log-20260101", "f.log.2.gz", "f.log.1.zst",
                             "f.log-2026-01-01_10:00.zstd", "f.log_20260101T1000", "f.log.0"})
        CHECK(rotated_name("f.log", name));
    for (const char* name : {"f.log", "f.log.", "f.log.gz", "f.log.bak", "f.log.1.bak", "f.logs.1",
                             "g.log.1", "f.log.-", "xf.log.1", "f.log1"})
        CHECK_FALSE(rotated_name("f.log", name));
}

TEST_CASE("generation marks: a rename, a copy, a compressed copy's prefix, another file") {
    test::TempDir dir;
    auto describe = [&](const std::string& path) {
        struct stat st {};
        ::stat(path.c_str(), &st);
        return describe_generation(path, st);
    };
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir.file(name), std::ios::binary) << text;
        return describe(dir.file(name));
    };
    auto gzip = [&](const std::string& name, const std::string& text) {
        gzFile f = gzopen(dir.file(name).c_str(), "wb");
        gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
        gzclose(f);
        return describe(dir.file(name));
    };
    std::string text;
    for (int i = 0; text.size() < 3 * kFingerprintBytes; ++i)
        text +=
            std::to_string(i % 7) + "," + std::to_string(i % 11) + " " + std::to_string(i) + "\n";
    const Generation a = write("f.log", text);
    const auto m = mark_of(a, text.size() - 100);
    REQUIRE(m);
    CHECK(m->head.length == kFingerprintBytes);
    CHECK(m->ino == a.st.st_ino);
    CHECK(holds(write("copy", text), *m));                          // a full copy
    CHECK(holds(write("longer", text + "9,9 9\n"), *m));            // and more after it
    CHECK(holds(gzip("copy.gz", text), *m));                        // compressed
    CHECK_FALSE(holds(write("prefix", text.substr(0, 5000)), *m));  // shorter than the mark
    std::string other = text;
    other[text.size() - 200] = 'x';  // same head, another end
    CHECK_FALSE(holds(write("other", other), *m));

    const std::vector<GenerationMark> marks{*m};
    ::rename(dir.file("f.log").c_str(), dir.file("f.log.1").c_str());
    CHECK(read_before(describe(dir.file("f.log.1")), marks));          // renamed
    CHECK(read_before(gzip("f.log.1.gz", text), marks));               // compressed
    CHECK(read_before(gzip("part.gz", text.substr(0, 6000)), marks));  // still being compressed
    CHECK_FALSE(read_before(gzip("other.gz", other), marks));
    const auto tiny = mark_of(write("tiny", "9,9 9\n"), 6);  // a short one first
    CHECK(read_before(gzip("f.log.1b.gz", text), {{*tiny, *m}}));
    CHECK_FALSE(read_before(write("f.log.2", text), marks));  // a new file beginning alike
    std::ofstream(dir.file("f.log.1"), std::ios::binary | std::ios::trunc) << "0,1 2\n" << text;
    CHECK_FALSE(read_before(describe(dir.file("f.log.1")), marks));  // its inode, another head
    CHECK_FALSE(read_before(describe(dir.file("f.log.1")), {}));
    CHECK_FALSE(mark_of(a, text.size() + 1));  // beyond its end
}
