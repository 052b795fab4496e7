#include "daemon/daemon.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <csignal>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace moe {

namespace {
// One writer per database: a second moescoped on the same file would interleave offsets.
int lock_database(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw StorageError("cannot open " + path + " to lock it");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw StorageError("another moescoped is already writing " + path);
    }
    return fd;
}
}  // namespace

Daemon::Daemon(DaemonConfig cfg)
    : cfg_(std::move(cfg)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      flush_timer_(io_),
      store_(Store::open_for_writing(cfg_.db_path)),
      lock_fd_(lock_database(cfg_.db_path)),
      agg_(cfg_.analytics) {
    store_.load(agg_);
    if (cfg_.analytics.num_experts && agg_.num_experts() != cfg_.analytics.num_experts)
        throw StorageError(cfg_.db_path + " holds counts for " +
                           std::to_string(agg_.num_experts()) + " experts, not --num-experts " +
                           std::to_string(cfg_.analytics.num_experts));
    std::vector<SourceStats> stored = store_.load_sources();
    auto take_stored = [&](const std::string& name) {
        for (auto it = stored.begin(); it != stored.end(); ++it) {
            if (it->name != name) continue;
            SourceStats s = std::move(*it);
            stored.erase(it);
            return s;
        }
        SourceStats s;
        s.name = name;
        return s;
    };
    for (const auto& f : cfg_.follows) {
        const std::string abs = std::filesystem::absolute(f.path).lexically_normal().string();
        SourceStats s = take_stored(abs);
        s.tag = f.tag;
        sources_.push_back(
            std::make_unique<FileFollower>(io_, abs, std::move(s), agg_, cfg_.follow));
    }
    restored_sources_ = std::move(stored);
}

Daemon::~Daemon() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::vector<SourceStats*> Daemon::all_stats() {
    std::vector<SourceStats*> out;
    for (auto& s : sources_)
        out.push_back(&s->stats());
    return out;
}

bool Daemon::flush() {
    try {
        const auto stats = all_stats();
        store_.save(agg_, stats);
        return true;
    } catch (const std::exception& e) {
        spdlog::error("flush to {} failed: {} (will retry; nothing committed is lost)",
                      cfg_.db_path, e.what());
        return false;
    }
}

void Daemon::schedule_flush() {
    flush_timer_.expires_after(std::chrono::milliseconds(cfg_.flush_ms));
    flush_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        flush();
        schedule_flush();
    });
}

void Daemon::wait_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            for (auto& s : sources_)
                s->reopen();
            wait_signals();
            return;
        }
        spdlog::info("{}: flushing and exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        for (auto& s : sources_)
            s->stop();
        flush_timer_.cancel();
        exit_code_ = flush() ? 0 : 1;
        io_.stop();
    });
}

int Daemon::run() {
    spdlog::info("moescoped: database {}, {} source(s), flush every {} ms", cfg_.db_path,
                 sources_.size(), cfg_.flush_ms);
    for (auto& s : sources_)
        s->start();
    schedule_flush();
    wait_signals();
    io_.run();
    return exit_code_;
}

}  // namespace moe
