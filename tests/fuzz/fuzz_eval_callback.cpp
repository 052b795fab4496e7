// libFuzzer target: llama.cpp eval-callback text, many lines with state between them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_sink.hpp"
#include "parsers/line_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    moe::fuzz::CheckingSink sink;
    moe::LineParser p(moe::Format::eval_callback);
    std::string_view in(reinterpret_cast<const char*>(data), size);
    while (!in.empty()) {
        const size_t nl = in.find('\n');
        p.parse(in.substr(0, nl), sink);
        if (nl == std::string_view::npos) break;
        in.remove_prefix(nl + 1);
    }
    return 0;
}
