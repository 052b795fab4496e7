#include "cli/input_check.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "ingest/input_reader.hpp"
#include "parsers/format_registry.hpp"
#include "parsers/number_scan.hpp"

namespace moe {

namespace {

bool gave_records(const SourceStats& s) {
    return s.records + s.gate_records + s.meta_records > 0;
}

// The top-level keys of a JSON object's first bytes (as many as they hold, at most `max`).
std::vector<std::string> object_keys(std::string_view t, size_t max) {
    std::vector<std::string> keys;
    size_t i = t.find('{') + 1, depth = 0;
    bool expect_key = true;
    while (i < t.size() && keys.size() < max) {
        const char c = t[i++];
        if (c == '"') {
            const size_t start = i;
            while (i < t.size() && t[i] != '"')
                i += t[i] == '\\' ? 2 : 1;
            if (i >= t.size()) break;
            if (depth == 0 && expect_key) keys.emplace_back(t.substr(start, i - start));
            expect_key = false;
            ++i;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth-- == 0) break;
        } else if (c == ',' && depth == 0) {
            expect_key = true;
        }
    }
    return keys;
}

// What the start of a file looks like, in a few words.
std::string looks_like(const AnalyzeInput& in, const SourceStats& s) {
    std::string head;
    // A pipe or FIFO was read once (opening a FIFO again would wait for another writer).
    std::error_code ec;
    const bool stream = in.path == "-" || !std::filesystem::is_regular_file(in.path, ec);
    if (!stream) try {
            InputReader reader(in.path);
            head = reader.read().substr(0, 64 * 1024);
        } catch (const std::exception& e) {
            return e.what();
        }
    std::string_view t = head;
    if (t.starts_with("\xEF\xBB\xBF")) t.remove_prefix(3);
    t.remove_prefix(std::min(t.size(), t.find_first_not_of(" \t\r\n")));
    if (stream && s.lines == 0) return "an empty input";
    if (stream) return std::to_string(s.lines) + " lines";
    if (t.empty()) return head.empty() ? "an empty file" : "blank lines only";
    std::string_view first = t.substr(0, t.find('\n'));
    if (first.ends_with('\r')) first.remove_suffix(1);
    if (scan::has_control_bytes(first.substr(0, 4096))) return "binary data";
    if (t.front() == '{') {
        const auto keys = object_keys(t, 6);
        std::string out = "a JSON object";
        for (size_t k = 0; k < keys.size(); ++k)
            out += (k ? ", \"" : " with keys \"") + keys[k] + "\"";
        return out + (keys.size() == 6 ? ", ..." : "");
    }
    if (t.front() == '[') return "a JSON array";
    if (first.size() > 60) first = first.substr(0, 57);
    return std::to_string(s.lines) + " lines of text, the first \"" +
           std::string(scan::trim(first)) + "\"";
}

std::string rejects_of(const SourceStats& s) {
    std::string out;
    for (int r = 0; r < kRejectReasonCount; ++r)
        if (s.rejects[static_cast<size_t>(r)])
            out += (out.empty() ? "; rejected " : ", ") +
                   std::string(reject_reason_name(static_cast<RejectReason>(r))) + " " +
                   std::to_string(s.rejects[static_cast<size_t>(r)]);
    return out;
}

std::string tried(Format format) {
    if (!format.is_auto()) return " (read as --format " + std::string(format.name()) + ")";
    std::string out = " (formats tried:";
    for (const FormatEntry& e : FormatRegistry::builtin().entries())
        if (e.name != "counts-json") out += " " + std::string(e.name);
    return out + "; a count table under a key: --format counts-json --counts-key KEY)";
}

std::string file_line(const AnalyzeInput& in, const SourceStats& s, Format format) {
    const std::string name = in.path == "-" ? std::string("standard input") : in.path;
    // Recognised, and refused as a whole: its sample says which model and why.
    const auto& refused = s.reject_samples[static_cast<size_t>(RejectReason::other_model)];
    if (!refused.empty()) return name + ": not counted, " + refused.front();
    return name + ": no record recognised in " + looks_like(in, s) + rejects_of(s) + tried(format);
}

}  // namespace

std::vector<std::string> unrecognised_inputs(const std::vector<AnalyzeInput>& given,
                                             const std::vector<AnalyzeInput>& read,
                                             const std::vector<SourceStats>& stats, Format format) {
    std::vector<std::string> out;
    bool any = false;
    for (const AnalyzeInput& g : given) {
        std::error_code ec;
        if (g.path != "-" && std::filesystem::is_directory(g.path, ec)) {
            std::string names;
            size_t n = 0;
            bool counted = false;
            for (size_t i = 0; i < read.size(); ++i) {
                if (read[i].dir != g.path) continue;
                counted = counted || gave_records(stats[i]);
                if (n++ < 3)
                    names += (n > 1 ? ", " : "") +
                             std::filesystem::path(read[i].path).filename().string();
            }
            any = any || counted;
            if (counted) continue;
            out.push_back(n == 0 ? g.path + ": an empty directory (no files to read)"
                                 : g.path + ": no log among its " + std::to_string(n) +
                                       (n == 1 ? " file (" : " files (") + names +
                                       (n > 3 ? ", ...)" : ")") + tried(format));
            continue;
        }
        for (size_t i = 0; i < read.size(); ++i) {
            if (!read[i].dir.empty() || read[i].path != g.path) continue;
            if (gave_records(stats[i]))
                any = true;
            else
                out.push_back(file_line(read[i], stats[i], format));
            break;
        }
    }
    if (!any && !out.empty()) throw NoDataError(out.front());
    return out;
}

void warn_unrecognised(const std::vector<AnalyzeInput>& given,
                       const std::vector<AnalyzeInput>& read, const std::vector<SourceStats>& stats,
                       Format format) {
    for (const std::string& line : unrecognised_inputs(given, read, stats, format))
        std::fprintf(stderr, "moescope: warning: %s\n", printable(line).c_str());
}

}  // namespace moe
