// libFuzzer target: the llama-server CSV parser, one input = one line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_sink.hpp"
#include "parsers/llama_csv_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    moe::fuzz::CheckingSink sink;
    moe::LlamaCsvParser p;
    p.parse(std::string_view(reinterpret_cast<const char*>(data), size), sink);
    return 0;
}
