// Where a chunk of a stream should start for parallel ingest (docs/ARCHITECTURE.md
// "Parallel ingest"): at a line where one pass starts a new batch (a routing record of
// another layer than the previous one, or a llama-server header), so the chunk numbers the
// rows of its first batch as one pass does and the strided-view policy
// (ingest/strided_policy.hpp) treats them alike.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "parsers/format.hpp"

namespace moe {

// Bytes of a window looked at after a cut; a batch longer than that keeps the cut as it is.
inline constexpr size_t kBatchStartWindow = 256u << 10;

// `window` starts at a line start. The offset in it of the first line that starts a batch
// after the window's first routing record (a line that is part of a multi-line document
// holds none), or nullopt when none does.
std::optional<size_t> batch_start(std::string_view window, Format format);

}  // namespace moe
