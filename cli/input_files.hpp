// The file list behind FILE arguments: a directory stands for the files in it (an engine's
// per-rank dump directory), and of lmdeploy's cumulative rank{r}_step{s}_experts_counts.json
// dumps only the last one is read; a TensorRT-LLM statistics directory (meta_info.json) is its
// rank{r}.safetensors files (README "Engine recorders").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/analyze.hpp"

namespace moe {

// Directories replaced by their regular files (sorted by name, hidden files left out, not
// recursive), each with the directory's tag; then every lmdeploy dump but the last step's
// (lowest rank) dropped. Entries that cannot be read as files (link loops, dangling links,
// FIFOs, sockets, devices) are left out with one warning line per directory on stderr.
// Throws std::runtime_error for a directory that cannot be listed.
std::vector<AnalyzeInput> expand_inputs(const std::vector<AnalyzeInput>& inputs);

// An imported file's identity, whatever its path or host: "sha256:" and the hex SHA-256 of its
// bytes. `import` stores it as the source's file_id, so that the same file is refused when
// imported again or when two databases that imported it are merged. Throws
// std::runtime_error when the file cannot be read.
inline constexpr std::string_view kContentIdPrefix = "sha256:";
std::string content_id(const std::string& path);

}  // namespace moe
