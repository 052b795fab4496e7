// The two parser paths of issue 18 alone, scalar reference against SIMD, on lines already in
// memory: selection lines (scan_selection_scalar vs scan_selection) and gate_input payloads
// (parse_float_list without and with the fast path). Best of 5 passes. Built and run by
// bench/simd_csv.py --micro:
//   micro_parsers CSV_LOG GATE_LOG
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "parsers/llama_csv_parser.hpp"
#include "parsers/number_scan.hpp"

namespace {

std::vector<std::string_view> lines_of(const std::string& text, std::string_view prefix,
                                       size_t skip_prefix) {
    std::vector<std::string_view> out;
    for (size_t a = 0; a < text.size();) {
        size_t e = text.find('\n', a);
        if (e == std::string::npos) e = text.size();
        const std::string_view line(text.data() + a, e - a);
        if (line.starts_with(prefix)) out.push_back(line.substr(skip_prefix));
        a = e + 1;
    }
    return out;
}

template <class F>
double best_seconds(F&& pass) {
    double best = 1e9;
    for (int r = 0; r < 5; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        pass();
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

std::string read_all(const char* path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: micro_parsers CSV_LOG GATE_LOG\n");
        return 2;
    }
    const std::string csv = read_all(argv[1]), gate = read_all(argv[2]);
    const auto selection = lines_of(csv, "", 0);
    size_t bytes = 0;
    for (auto l : selection)
        bytes += l.size() + 1;
    std::array<int32_t, moe::kMaxTopK> ids;
    long check = 0;
    for (int fast = 0; fast < 2; ++fast) {
        const double s = best_seconds([&] {
            for (auto l : selection) {
                const auto r =
                    fast ? moe::scan_selection(l, ids) : moe::scan_selection_scalar(l, ids);
                check += r.n;
            }
        });
        std::printf("selection %s: %.1f ns/line, %.0f MB/s\n", fast ? "simd  " : "scalar",
                    s * 1e9 / selection.size(), bytes / 1e6 / s);
    }

    // "gate_input,L,T,": the float list starts after the third comma.
    std::vector<std::string_view> payloads;
    for (auto l : lines_of(gate, "gate_input,", 0)) {
        size_t at = 0;
        for (int c = 0; c < 3; ++c)
            at = l.find(',', at) + 1;
        payloads.push_back(l.substr(at));
    }
    bytes = 0;
    for (auto l : payloads)
        bytes += l.size() + 1;
    std::vector<float> out;
    for (int fast = 0; fast < 2; ++fast) {
        const double s = best_seconds([&] {
            for (auto l : payloads) {
                if (fast)
                    moe::scan::parse_float_list<true>(l.data(), l.data() + l.size(), out);
                else
                    moe::scan::parse_float_list<false>(l.data(), l.data() + l.size(), out);
                check += static_cast<long>(out.size());
            }
        });
        std::printf("gate floats %s: %.0f MB/s\n", fast ? "simd  " : "scalar", bytes / 1e6 / s);
    }
    return check == 0;  // keeps the work from being optimised away
}
