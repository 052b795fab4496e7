// libFuzzer target: NDJSON lines (simdjson on-demand), every alias, batches, meta, gates.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_sink.hpp"
#include "parsers/ndjson_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static moe::NdjsonParser
        parser;  // reused like in the daemon: state must not leak between lines
    moe::fuzz::CheckingSink sink;
    parser.parse(std::string_view(reinterpret_cast<const char*>(data), size), sink);
    return 0;
}
