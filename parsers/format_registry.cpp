#include "parsers/format_registry.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "parsers/number_scan.hpp"

namespace moe {

// The input formats, one line each: X(id) names `FormatEntry id_format()`, defined in that
// format's own file next to its parser (name, help text, detection priority, factory).
#define MOE_FORMATS(X) \
    X(ndjson)          \
    X(llama_csv)       \
    X(eval_callback)   \
    X(sglang_json)     \
    X(sglang_csv)      \
    X(lmdeploy_json)   \
    X(counts_json)     \
    X(moe_trace_csv)   \
    X(imatrix_gguf)    \
    X(trtllm_stats)

#define MOE_DECLARE_FORMAT(id) FormatEntry id##_format();
MOE_FORMATS(MOE_DECLARE_FORMAT)
#define MOE_LIST_FORMAT(id) id##_format(),

const FormatRegistry& FormatRegistry::builtin() {
    static const FormatRegistry registry({MOE_FORMATS(MOE_LIST_FORMAT)});
    return registry;
}

FormatRegistry::FormatRegistry(std::vector<FormatEntry> entries) : entries_(std::move(entries)) {
    for (size_t i = 0; i < entries_.size(); ++i) {
        const FormatEntry& e = entries_[i];
        if (e.name.empty() || e.name == Format::kAutoName || e.make == nullptr)
            throw std::invalid_argument("format registry: bad entry '" + std::string(e.name) + "'");
        for (size_t j = 0; j < i; ++j)
            if (entries_[j].name == e.name)
                throw std::invalid_argument("format registry: '" + std::string(e.name) +
                                            "' registered twice");
    }
    std::stable_sort(
        entries_.begin(), entries_.end(),
        [](const FormatEntry& a, const FormatEntry& b) { return a.priority > b.priority; });
}

FormatRegistry FormatRegistry::with(FormatEntry entry) const {
    std::vector<FormatEntry> all(entries_.begin(), entries_.end());
    all.push_back(entry);
    return FormatRegistry(std::move(all));
}

const FormatEntry* FormatRegistry::find(std::string_view name) const {
    for (const FormatEntry& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

std::optional<Format> FormatRegistry::parse(std::string_view name) const {
    if (name == Format::kAutoName) return Format::auto_detect;
    if (const FormatEntry* e = find(name)) return Format(e->name);
    return std::nullopt;
}

std::vector<std::string> FormatRegistry::names() const {
    std::vector<std::string> out{std::string(Format::kAutoName)};
    for (const FormatEntry& e : entries_)
        out.emplace_back(e.name);
    return out;
}

std::string FormatRegistry::help() const {
    // Names only: with every description this was an 800-column line in each --help (issue
    // 31); `moescope formats` lists them with what each reads.
    std::string out = "Input format: auto (detected per line) or one of";
    for (const FormatEntry& e : entries_)
        out.append(" ").append(e.name).append(",");
    out.back() = ';';
    return out + " `moescope formats` says what each reads";
}

const FormatEntry* FormatRegistry::whole_file_format(Format format, std::string_view path,
                                                     std::string_view head) const {
    if (!format.is_auto()) {
        const FormatEntry* e = find(format.name());
        return e != nullptr && e->read_file != nullptr ? e : nullptr;
    }
    for (const FormatEntry& e : entries_)
        if (e.read_file != nullptr && e.claims_file != nullptr && e.claims_file(path, head))
            return &e;
    return nullptr;
}

const FormatEntry* FormatRegistry::file_reader(Format format, const std::string& path) const {
    // Opening a pipe here would take its first bytes (or a FIFO's first writer) from the
    // reader that follows: only a regular file can be opened twice.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
    std::ifstream in(path, std::ios::binary);
    char head[FormatEntry::kHeadBytes];
    in.read(head, sizeof head);
    return whole_file_format(format, path,
                             std::string_view(head, static_cast<size_t>(in.gcount())));
}

namespace {
// One layout hook of every entry, and-ed: a path stays when every format keeps it.
std::vector<bool> keep_by_all(std::span<const FormatEntry> entries,
                              FileSelection FormatEntry::*hook,
                              std::span<const std::string> paths) {
    std::vector<bool> keep(paths.size(), true);
    for (const FormatEntry& e : entries) {
        if (e.*hook == nullptr) continue;
        const std::vector<bool> mine = (e.*hook)(paths);
        for (size_t i = 0; i < keep.size() && i < mine.size(); ++i)
            keep[i] = keep[i] && mine[i];
    }
    return keep;
}
}  // namespace

std::vector<bool> FormatRegistry::directory_files(std::span<const std::string> paths) const {
    return keep_by_all(entries_, &FormatEntry::directory_files, paths);
}

std::vector<bool> FormatRegistry::input_files(std::span<const std::string> paths) const {
    return keep_by_all(entries_, &FormatEntry::input_files, paths);
}

std::optional<Format> parse_format(std::string_view name) {
    return FormatRegistry::builtin().parse(name);
}

std::vector<std::string> format_names() {
    return FormatRegistry::builtin().names();
}

std::string format_help() {
    return FormatRegistry::builtin().help();
}

void skip_unrecognized(std::string_view line, RecordSink& sink) {
    if (scan::has_control_bytes(line)) return sink.on_reject(RejectReason::binary, line);
    sink.on_skip(SkipKind::other, line);
}

}  // namespace moe
