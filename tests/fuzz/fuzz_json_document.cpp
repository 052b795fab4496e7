// libFuzzer target: whole JSON documents (router-pipeline layout, multi-line records).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_sink.hpp"
#include "parsers/ndjson_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static moe::NdjsonParser parser;
    moe::fuzz::CheckingSink sink;
    parser.parse_document(std::string_view(reinterpret_cast<const char*>(data), size), sink);
    return 0;
}
