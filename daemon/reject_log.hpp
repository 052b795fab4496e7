// Says in the daemon log what the data looks like: the first reject of each reason per
// source, with a sample (control bytes already escaped by SourceStats::sample_of), then at
// most one summary line per source and interval while new rejects keep coming; and one line
// per source and episode of the data-quality checks (docs/FIGURES.md "Data quality"): each
// stream found to have the strided-view defect, each stretch of identical-routing runs
// (runs found at a check that follows one that found none). Counts restored from an
// earlier run are the baseline: only what this run sees is logged.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "analytics/source_stats.hpp"

namespace moe {

class RejectLog {
  public:
    explicit RejectLog(std::chrono::seconds summary_interval) : interval_(summary_interval) {}

    // The counts restored from an earlier run: call before the sources start.
    void baseline(const std::vector<SourceStats*>& sources,
                  std::chrono::steady_clock::time_point now);
    // Called on the loop thread, e.g. at every flush tick.
    void check(const std::vector<SourceStats*>& sources, std::chrono::steady_clock::time_point now);

  private:
    struct Seen {
        std::array<uint64_t, kRejectReasonCount> baseline{};  // at start
        std::array<uint64_t, kRejectReasonCount> summarized{};
        std::array<bool, kRejectReasonCount> announced{};
        uint64_t strided_baseline = 0;
        bool strided_announced = false;
        uint64_t strided_streams = 0;    // defective streams already told
        uint64_t identical_runs = 0;     // runs already told or part of an episode
        bool identical_episode = false;  // the last check found new runs
        std::chrono::steady_clock::time_point last_summary;
    };
    void check_one(const SourceStats& s, Seen& seen, std::chrono::steady_clock::time_point now);
    void check_quality(const SourceStats& s, Seen& seen);

    std::chrono::seconds interval_;
    std::map<std::string, Seen> seen_;  // by source name
};

}  // namespace moe
