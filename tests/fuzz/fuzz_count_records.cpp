// libFuzzer target: the engine-recorder formats (sglang-json, lmdeploy-json, sglang-csv,
// moe-trace-csv, counts-json with a key and a token-count key), each forced, the input as
// lines and as one document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_sink.hpp"
#include "parsers/format.hpp"
#include "parsers/line_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static const moe::FormatSettings counts{"c", "n"};
    for (std::string_view name :
         {"sglang-json", "lmdeploy-json", "sglang-csv", "moe-trace-csv", "counts-json"}) {
        moe::fuzz::CheckingSink sink;
        moe::LineParser p(moe::Format(moe::parse_format(name)->name(), &counts));
        for (size_t start = 0; start <= text.size();) {
            const size_t nl = text.find('\n', start);
            const size_t end = nl == std::string_view::npos ? text.size() : nl;
            p.parse(text.substr(start, end - start), sink);
            start = end + 1;
        }
        p.parse_document(text, sink);
    }
    return 0;
}
