#include "daemon/reject_log.hpp"

#include <spdlog/spdlog.h>

namespace moe {

void RejectLog::baseline(const std::vector<SourceStats*>& sources,
                         std::chrono::steady_clock::time_point now) {
    for (const SourceStats* s : sources) {
        Seen& seen = seen_[s->name];
        seen.baseline = seen.summarized = s->rejects;
        seen.strided_baseline = s->batches_strided;
        seen.strided_streams = s->strided_streams;
        seen.identical_runs = s->identical_runs;
        seen.last_summary = now;
    }
}

void RejectLog::check(const std::vector<SourceStats*>& sources,
                      std::chrono::steady_clock::time_point now) {
    for (const SourceStats* s : sources) {
        auto [it, first] = seen_.try_emplace(s->name);
        if (first) it->second.last_summary = now;
        check_one(*s, it->second, now);
    }
}

void RejectLog::check_one(const SourceStats& s, Seen& seen,
                          std::chrono::steady_clock::time_point now) {
    for (size_t r = 0; r < kRejectReasonCount; ++r) {
        if (seen.announced[r] || s.rejects[r] <= seen.baseline[r]) continue;
        seen.announced[r] = true;
        const auto& samples = s.reject_samples[r];
        const auto why = static_cast<RejectReason>(r);
        spdlog::warn("{}: rejected a line ({}){}{}{}; further rejects are summarized every {} s",
                     s.name, reject_reason_name(why), samples.empty() ? "" : ", e.g. ",
                     samples.empty() ? "" : samples.back(),
                     why == RejectReason::engine_totals
                         ? " (engine totals are totals since the engine started, rewritten in "
                           "place: `moescope import` each dump into the database instead)"
                         : "",
                     interval_.count());
        ++seen.summarized[r];  // this one is told; the summaries have the rest
    }
    check_quality(s, seen);
    if (now - seen.last_summary < interval_) return;
    std::string detail;
    uint64_t total = 0;
    for (size_t r = 0; r < kRejectReasonCount; ++r) {
        const uint64_t n = s.rejects[r] - std::min(s.rejects[r], seen.summarized[r]);
        if (n == 0) continue;
        total += n;
        detail += detail.empty() ? "" : ", ";
        detail +=
            std::string(reject_reason_name(static_cast<RejectReason>(r))) + " " + std::to_string(n);
    }
    if (total == 0) return;  // nothing new: stay quiet
    spdlog::info("{}: {} more lines rejected in the last {} s ({}); `moescope sources` has samples",
                 s.name, total, interval_.count(), detail);
    seen.summarized = s.rejects;
    seen.last_summary = now;
}

void RejectLog::check_quality(const SourceStats& s, Seen& seen) {
    if (s.strided_streams > seen.strided_streams) {  // a stream proven defective: left out
        seen.strided_streams = s.strided_streams;
        seen.strided_announced = true;
        spdlog::warn(
            "{}: a stream shows llama-server's strided-view defect ({} of {} checked batches "
            "strided): rows after the first of each multi-token batch are left out, {} so far "
            "(docs/FIGURES.md \"Data quality\")",
            s.name, s.batches_strided, s.batches_checked, s.strided_excluded);
    } else if (!seen.strided_announced && s.batches_strided > seen.strided_baseline &&
               s.batches_strided * 2 >= s.batches_checked && s.strided_excluded == 0) {
        seen.strided_announced = true;  // --keep-suspect: the policy does not run
        spdlog::warn(
            "{}: {} of {} multi-token batches look like llama-server's strided-view defect; "
            "their rows after the first are still counted (--keep-suspect) "
            "(docs/FIGURES.md \"Data quality\")",
            s.name, s.batches_strided, s.batches_checked);
    }
    const bool new_runs = s.identical_runs > seen.identical_runs;
    if (new_runs && !seen.identical_episode)
        spdlog::warn(
            "{}: runs of >= 256 identical routings of one layer (warm-up passes?): {} so far, "
            "{} of their records {} (docs/FIGURES.md \"Data quality\")",
            s.name, s.identical_runs,
            s.identical_excluded ? s.identical_excluded : s.identical_records,
            s.identical_excluded ? "left out" : "still counted (--keep-suspect)");
    seen.identical_episode = new_runs;
    seen.identical_runs = s.identical_runs;
}

}  // namespace moe
