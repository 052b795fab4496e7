// UniqueFd is the one owner of descriptors (models/unique_fd.hpp): every reader that opens a
// file closes it on every way out, errors included. Counted in /proc/self/fd, so a path that
// forgets one fails here, not after a week of rotations in a daemon.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

#include "daemon/file_follower.hpp"
#include "ingest/input_reader.hpp"
#include "models/mapped_file.hpp"
#include "same_ingest.hpp"
#include "temp_dir.hpp"

using namespace moe;

namespace {

size_t open_fd_count() {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

void write_bytes_fd_test(const std::string& path, const std::string& bytes, bool append = false) {
    std::ofstream(path, append ? std::ios::binary | std::ios::app : std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("MappedFile and InputReader leave no descriptor open, on errors too", "[fd]") {
    test::TempDir dir;
    const std::string file = dir.file("model.bin"), empty = dir.file("empty.bin");
    write_bytes_fd_test(file, std::string(10000, 'x'));
    write_bytes_fd_test(empty, "");
    const size_t before = open_fd_count();

    CHECK_THROWS_AS(models::MappedFile(dir.file("missing.bin")), std::runtime_error);
    CHECK_THROWS_AS(models::MappedFile(dir.path().string()), std::runtime_error);  // a directory
    CHECK(models::MappedFile(empty).size() == 0);
    {
        const models::MappedFile m(file);
        std::filesystem::remove(file);  // the mapping keeps the data, not a descriptor
        CHECK(open_fd_count() == before);
        CHECK(static_cast<char>(m.data()[9999]) == 'x');
    }
    CHECK(open_fd_count() == before);

    CHECK_THROWS_AS(InputReader(dir.file("missing.log")), std::runtime_error);
    write_bytes_fd_test(file, "1,2\n");
    {
        InputReader r(file);
        CHECK(open_fd_count() == before + 1);
        CHECK(r.read() == "1,2\n");
    }
    CHECK(open_fd_count() == before);
}

TEST_CASE("a follower over rotations, deletions and a directory keeps one descriptor", "[fd]") {
    test::TempDir dir;
    const std::string path = dir.file("sel.log");
    const size_t before = open_fd_count();
    {
        boost::asio::io_context io;
        AnalyticsOptions opts;
        Aggregates agg(opts);
        FollowOptions o;
        o.rotate_quiet_ms = 0;  // switch at once: every poll may change files
        o.rotate_max_ms = 0;
        FileFollower f(io, path, SourceStats{}, agg, o);
        const size_t idle = open_fd_count();  // with the loop's own (epoll, its timer's)
        const auto poll_some = [&] {
            for (int i = 0; i < 6; ++i) {
                f.poll();
                REQUIRE(open_fd_count() <= idle + 1);  // the current file only
            }
        };
        poll_some();  // nothing there yet
        std::filesystem::create_directory(path);
        poll_some();  // opened, refused (not a regular file), closed
        std::filesystem::remove(path);
        for (int round = 0; round < 12; ++round) {
            INFO("round " << round);
            write_bytes_fd_test(path, test::server_log(static_cast<unsigned>(round), 3));
            poll_some();
            if (round % 3 == 0)  // truncated in place: read again from the start
                write_bytes_fd_test(path, test::server_log(99, 2));
            else if (round % 3 == 1)  // renamed: the old file is left
                std::filesystem::rename(path, path + "." + std::to_string(round));
            else  // deleted
                std::filesystem::remove(path);
            poll_some();
        }
        CHECK(f.stats().records > 0);  // it did read the generations
    }
    CHECK(open_fd_count() == before);
}
