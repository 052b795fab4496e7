#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "daemon/file_follower.hpp"
#include "same_ingest.hpp"
#include "temp_dir.hpp"

using namespace moe;

namespace {

AnalyticsOptions full() {
    AnalyticsOptions o;
    apply_analytics_set("full", o);
    return o;
}

void write(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

// Polls until the follower has consumed `offset` (bounded: a replay round waits for its
// chunk threads, which a slow machine can take a while to finish).
void follow_to(FileFollower& f, uint64_t offset) {
    for (int i = 0; i < 200000 && (i == 0 || f.stats().offset != offset); ++i)
        if (!f.poll() && f.replay_waiting())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(f.stats().offset == offset);
}

}  // namespace

TEST_CASE("a followed file's backlog read on several threads equals one pass", "[replay]") {
    test::TempDir dir;
    const std::string path = dir.file("moe_expert_selection.log");
    // The patched server's log (every strided row left out) with a write in progress.
    const std::string log = test::server_log(21, 700, test::Strided::all, 350) + "2,5 6";
    write(path, log);

    Aggregates one_agg(full());
    SourceStats one;
    StreamIngest ingest(one_agg, one, Format::auto_detect);
    ingest.feed(log);
    one.offset = ingest.consumed();

    for (unsigned threads : {2u, 3u, 5u}) {
        INFO("threads " << threads);
        boost::asio::io_context io;
        Aggregates agg(full());
        FollowOptions o;
        o.replay = {threads, 256u << 10, 96u << 10};  // rounds of `threads` x 96 KiB
        FileFollower f(io, path, SourceStats{}, agg, o);
        follow_to(f, one.offset);
        const auto& r = f.replay_counts();
        REQUIRE(r.rounds >= 3);
        REQUIRE(r.chunks >= r.rounds * (threads - 1) - 1);
        REQUIRE(r.appended * 10 >= r.chunks * 8);  // few chunks fall back to one pass
        REQUIRE(one.batches_strided > 10);
        REQUIRE(one.strided_excluded > 1000);
        test::require_same_ingest(one_agg, one, agg, f.stats());
    }
}

TEST_CASE("a small backlog and the live tail are read on the loop", "[replay]") {
    test::TempDir dir;
    const std::string path = dir.file("sel.log");
    const std::string log = test::server_log(5, 40);
    write(path, log);
    boost::asio::io_context io;
    Aggregates agg(full());
    FollowOptions o;
    o.replay = {4, 1u << 20, 64u << 10};  // the file is under the 1 MiB threshold
    FileFollower f(io, path, SourceStats{}, agg, o);
    follow_to(f, log.size());
    std::ofstream(path, std::ios::app) << test::server_log(6, 40).substr(20);  // header cut
    follow_to(f, std::filesystem::file_size(path));
    REQUIRE(f.replay_counts().rounds == 0);
    REQUIRE(f.stats().records > 1000);
}

TEST_CASE("a truncation during a replay round drops the round's chunks", "[replay]") {
    test::TempDir dir;
    const std::string path = dir.file("sel.log");
    write(path, test::server_log(8, 400));
    boost::asio::io_context io;
    Aggregates agg(full());
    FollowOptions o;
    o.replay = {2, 64u << 10, 128u << 10};
    FileFollower f(io, path, SourceStats{}, agg, o);
    // Opens the file, reads until the strided-view verdict is reached (the chunks assume
    // it), starts a round and reads the follower's own chunk.
    for (int i = 0; i < 100 && f.replay_counts().rounds == 0; ++i)
        f.poll();
    REQUIRE(f.replay_counts().rounds == 1);
    REQUIRE(f.replay_waiting());
    const uint64_t before = f.stats().records;  // counted, as one pass counts them
    REQUIRE(before > 500);
    // llama-server restarted; its new log is a backlog too once its verdict is reached.
    const std::string fresh = test::server_log(9, 300);
    write(path, fresh);
    follow_to(f, fresh.size());
    REQUIRE(f.stats().restarts == 1);
    // What the round's chunk threads read of the old file was never appended.
    Aggregates ref(full());
    SourceStats s;
    StreamIngest again(ref, s, Format::auto_detect);
    again.feed(fresh);
    REQUIRE(f.stats().records == before + s.records);
    REQUIRE(f.replay_counts().rounds >= 2);  // the new file is a backlog too
}
