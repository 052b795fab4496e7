// The file list behind FILE arguments: a directory stands for the files in it (an engine's
// per-rank dump directory), and the recorders' file layouts, declared with their formats
// (FormatEntry::directory_files, input_files), leave out what is not data: lmdeploy's
// superseded dumps, the files beside TensorRT-LLM's rank files (docs/INPUTS.md "Engine recorders").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/analyze.hpp"
#include "parsers/format_registry.hpp"

namespace moe {

// Directories replaced by their regular files (sorted by name, hidden files left out, not
// recursive), each with the directory's tag, as `formats`' layouts keep them; then the
// whole list as they keep it. Entries that cannot be read as files (link loops, dangling
// links, FIFOs, sockets, devices) are left out with one warning line per directory on
// stderr. Throws std::runtime_error for a directory that cannot be listed.
std::vector<AnalyzeInput> expand_inputs(const std::vector<AnalyzeInput>& inputs,
                                        const FormatRegistry& formats = FormatRegistry::builtin());

// expand_inputs, and with --tag-from-name each file tagged with its name without the
// directory and extensions (runs/gsm8k.jsonl.gz -> gsm8k), so that files of different
// workloads stay apart. Throws std::invalid_argument where a name cannot apply: standard
// input, or an input given as FILE=TAG.
std::vector<AnalyzeInput> expand_inputs(const std::vector<AnalyzeInput>& inputs,
                                        bool tag_from_name);
std::string tag_of_file_name(const std::string& path);

// An imported file's identity, whatever its path or host: "sha256:" and the hex SHA-256 of its
// bytes. `import` stores it as the source's file_id, so that the same file is refused when
// imported again or when two databases that imported it are merged. Throws
// std::runtime_error when the file cannot be read.
inline constexpr std::string_view kContentIdPrefix = "sha256:";
std::string content_id(const std::string& path);

}  // namespace moe
