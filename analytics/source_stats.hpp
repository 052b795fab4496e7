// Ingest counters of one source (a followed file, a listener, stdin, an analyzed file):
// what came in, what became records, and what was rejected or skipped and why.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/quality.hpp"
#include "parsers/record.hpp"
#include "parsers/record_sink.hpp"
#include "parsers/utf8.hpp"

namespace moe {

struct SourceStats {
    static constexpr size_t kSamplesPerReason = 3;
    static constexpr size_t kSampleBytes = kRejectSampleBytes;

    std::string name;  // "file:/var/log/moe.log", "tcp://127.0.0.1:7070", "stdin"
    std::string kind;  // file, tcp, unix, stdin, import
    std::string tag;   // the source's tag ("" = only "all")

    uint64_t bytes = 0;         // bytes read
    uint64_t lines = 0;         // complete lines seen
    uint64_t records = 0;       // routing records (and engine count records) counted
    uint64_t gate_records = 0;  // gate-input vectors accepted
    uint64_t meta_records = 0;
    uint64_t skipped_lines = 0;  // headers, blanks, other log lines
    std::array<uint64_t, kRejectReasonCount> rejects{};
    std::array<std::vector<std::string>, kRejectReasonCount> reject_samples;
    std::vector<std::string> skipped_samples;  // a few "other" lines

    // Files only: read offset (bytes consumed up to the last complete line) and size.
    uint64_t offset = 0;
    uint64_t file_size = 0;
    std::string file_id;    // "dev:inode" of the followed file
    uint64_t restarts = 0;  // truncations and rotations seen
    // Database only: when the daemon last saved a change of this source (new bytes, records,
    // rejects or a restart), seconds since the epoch; 0 for FILE arguments.
    double last_seen = 0;

    // Multi-token batches checked for the llama-server strided-view defect, and how many
    // looked defective (see strided_batch_check.hpp).
    uint64_t batches_checked = 0;
    uint64_t batches_strided = 0;

    // Runs of >= 256 identical routings of one layer (ingest/identical_runs.hpp): how many,
    // the records in them, and how many of those were left out (all but each run's first,
    // unless --keep-suspect).
    uint64_t identical_runs = 0;
    uint64_t identical_records = 0;
    uint64_t identical_excluded = 0;
    // Streams whose strided-view verdict was "defective" (ingest/strided_policy.hpp), and
    // the rows after the first of their multi-token batches that were left out.
    uint64_t strided_streams = 0;
    uint64_t strided_excluded = 0;
    // Records left out by `why` (analytics/quality.hpp).
    uint64_t excluded(Suspect why) const {
        return why == Suspect::identical_run ? identical_excluded : strided_excluded;
    }
    uint64_t& excluded(Suspect why) {
        return why == Suspect::identical_run ? identical_excluded : strided_excluded;
    }
    // `analyze` only: the compressed file ended inside a gzip member or zstd frame.
    bool truncated = false;

    // Files only: StreamIngest::checkpoint() as of `offset` (opaque bytes).
    std::string stream_state;

    // Listeners only.

    uint64_t connections = 0;          // accepted
    uint64_t connections_refused = 0;  // closed at once: too many open
    uint64_t open_connections = 0;     // open now: live only, never stored

    // Bytes of a followed file not yet committed (0 for streams, whose file_size stays 0).
    uint64_t lag_bytes() const { return file_size > offset ? file_size - offset : 0; }

    uint64_t total_rejects() const {
        uint64_t n = 0;
        for (uint64_t r : rejects)
            n += r;
        return n;
    }
    void add_reject(RejectReason why, std::string_view line) {
        const auto i = static_cast<size_t>(why);
        ++rejects[i];
        keep_sample(reject_samples[i], line);
    }
    void add_skip(SkipKind kind, std::string_view line) {
        ++skipped_lines;
        if (kind == SkipKind::other) keep_sample(skipped_samples, line);
    }
    bool dirty = true;  // changed since the last save

    // Adds the counters of the same source's next part (ingest/parallel_ingest.hpp);
    // samples stay the first ones in order.
    void append(const SourceStats& later) {
        bytes += later.bytes;
        lines += later.lines;
        records += later.records;
        gate_records += later.gate_records;
        meta_records += later.meta_records;
        skipped_lines += later.skipped_lines;
        for (size_t i = 0; i < kRejectReasonCount; ++i) {
            rejects[i] += later.rejects[i];
            for (const std::string& s : later.reject_samples[i])
                if (reject_samples[i].size() < kSamplesPerReason) reject_samples[i].push_back(s);
        }
        for (const std::string& s : later.skipped_samples)
            if (skipped_samples.size() < kSamplesPerReason) skipped_samples.push_back(s);
        batches_checked += later.batches_checked;
        batches_strided += later.batches_strided;
        identical_runs += later.identical_runs;
        identical_records += later.identical_records;
        identical_excluded += later.identical_excluded;
        strided_streams += later.strided_streams;
        strided_excluded += later.strided_excluded;
    }

    // Printable, bounded UTF-8 copy of a line, cut on a character boundary, control
    // characters and bytes that are not UTF-8 escaped (utf8::escaped).
    static std::string sample_of(std::string_view line);

  private:
    static void keep_sample(std::vector<std::string>& v, std::string_view line) {
        if (v.size() < kSamplesPerReason) v.push_back(sample_of(line));
    }
};

inline std::string SourceStats::sample_of(std::string_view line) {
    const std::string_view kept = utf8::cut(line, kSampleBytes);
    std::string out = utf8::escaped(kept);
    if (kept.size() < line.size()) out += "...";
    return out;
}

}  // namespace moe
