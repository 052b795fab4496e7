#include "cli/analyze.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "ingest/stream_ingest.hpp"
#include "ingest/unique_fd.hpp"

namespace moe {

AnalyzeInput parse_input_spec(const std::string& spec) {
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos) return {spec, ""};
    return {spec.substr(0, eq), spec.substr(eq + 1)};
}

std::vector<SourceStats> analyze_files(const std::vector<AnalyzeInput>& inputs, Format format,
                                       Aggregates& agg, size_t max_line,
                                       const RecordObserver& observer) {
    std::vector<SourceStats> stats(inputs.size());
    constexpr size_t kChunk = 4u << 20;
    std::unique_ptr<char[]> buf(new char[kChunk]);
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto& in = inputs[i];
        const bool is_stdin = in.path == "-";
        // stdin is borrowed (dup): closing the copy leaves the process's stdin open.
        UniqueFd fd(is_stdin ? ::dup(0) : ::open(in.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0)
            throw std::runtime_error("cannot open " + in.path + ": " + std::strerror(errno));
        SourceStats& s = stats[i];
        s.name = is_stdin ? "stdin" : in.path;
        s.kind = is_stdin ? "stdin" : "file";
        s.tag = in.tag;
        StreamIngest ingest(agg, s, format, max_line);
        ingest.set_observer(observer);
        for (;;) {
            const ssize_t n = ::read(fd.get(), buf.get(), kChunk);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0)
                throw std::runtime_error("cannot read " + in.path + ": " + std::strerror(errno));
            if (n == 0) break;
            ingest.feed(std::string_view(buf.get(), static_cast<size_t>(n)));
        }
        // Like the daemon, count only complete lines: a last line without "\n" may be a
        // write in progress, so it is reported (partial_line) instead of parsed.
        s.offset = ingest.consumed();
        s.file_size = s.bytes;
        ingest.finish();
    }
    agg.pad_to_num_experts();
    return stats;
}

}  // namespace moe
