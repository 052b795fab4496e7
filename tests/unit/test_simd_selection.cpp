// The SIMD selection-line scanner (parsers/simd_selection.hpp) against the scalar reference
// on millions of random, hostile and mutated lines, each placed so that it ends exactly at
// an unreadable page (and every fourth also in an exact-size heap block, for ASan).
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "guarded_buffer.hpp"
#include "parsers/llama_csv_parser.hpp"
#include "parsers/simd_selection.hpp"

using namespace moe;

namespace {

struct Outcome {
    SelectionScan scan;
    std::vector<int32_t> ids;
    bool operator==(const Outcome& o) const {
        return scan.ok == o.scan.ok && scan.why == o.scan.why && scan.layer == o.scan.layer &&
               scan.n == o.scan.n && ids == o.ids;
    }
};

template <class Scan>
Outcome run(Scan scan, std::string_view line) {
    std::array<int32_t, kMaxTopK> ids{};
    Outcome o{scan(line, TopKIds(ids)), {}};
    if (o.scan.ok) o.ids.assign(ids.begin(), ids.begin() + o.scan.n);
    return o;
}

// Compares the dispatching scanner with the reference on many lines; keeps the first
// difference for the report, and counts how many lines the fast path read itself.
class Comparer {
  public:
    void check(const std::string& line) {
        ++lines_;
        const std::string_view at_end = guard_.place(line, lines_ % 3 == 0 ? lines_ % 17 : 0);
        compare(at_end, line);
        if (lines_ % 4 == 0) {
            std::unique_ptr<char[]> exact(new char[line.size()]);
            std::copy(line.begin(), line.end(), exact.get());
            compare(std::string_view(exact.get(), line.size()), line);
        }
        std::array<int32_t, kMaxTopK> ids;
        simd::SelectionFields f;
        fast_ += simd::scan_selection(at_end.data(), at_end.size(), ids.data(), f);
    }
    size_t lines() const { return lines_; }
    size_t fast() const { return fast_; }
    size_t mismatches() const { return mismatches_; }
    const std::string& first_mismatch() const { return first_; }

  private:
    void compare(std::string_view at, const std::string& line) {
        if (run(scan_selection, at) == run(scan_selection_scalar, at)) return;
        if (mismatches_++ == 0) first_ = line;
    }

    test::GuardedBuffer guard_{4096};
    size_t lines_ = 0, fast_ = 0, mismatches_ = 0;
    std::string first_;
};

class LineGen {
  public:
    explicit LineGen(uint64_t seed) : rng_(seed) {}

    size_t below(size_t n) { return static_cast<size_t>(rng_() % n); }
    bool one_in(size_t n) { return below(n) == 0; }

    std::string number(size_t digits) {
        std::string s;
        for (size_t i = 0; i < digits; ++i)
            s += static_cast<char>('0' + below(10));
        return s;
    }
    // Mostly the shapes real logs have; now and then leading zeros, long digit runs,
    // minus signs, tabs and runs of separators.
    std::string digits_field(size_t common_max) {
        std::string s = one_in(20) ? "-" : "";
        const size_t width = one_in(15) ? 1 + below(20) : 1 + below(common_max);
        return s + number(width);
    }
    std::string separator() {
        if (one_in(10)) return std::string(1 + below(3), one_in(2) ? '\t' : ' ');
        return " ";
    }
    std::string well_formed() {
        std::string s = digits_field(4) + ",";
        if (one_in(10)) s += separator();
        const size_t k = one_in(50) ? 1 + below(300) : one_in(10) ? 0 : 1 + below(16);
        for (size_t i = 0; i < k; ++i) {
            if (i) s += separator();
            s += digits_field(4);
        }
        if (one_in(10)) s += separator();
        return s;
    }
    std::string hostile(size_t len) {
        static constexpr char kBytes[] =
            "0123456789012345678901234567890123456789     ,,--\t\t"
            "x.e+\r\n\x01\x7f\xff\x80";
        std::string s;
        for (size_t i = 0; i < len; ++i)
            s += kBytes[below(sizeof kBytes - 1)];
        s += '\0';  // a NUL inside, now and then (kBytes has none)
        if (!one_in(20)) s.pop_back();
        return s;
    }
    std::string mutate(std::string s) {
        const size_t edits = 1 + below(3);
        for (size_t e = 0; e < edits; ++e) {
            const size_t at = s.empty() ? 0 : below(s.size() + 1);
            const std::string b = hostile(1);
            switch (below(3)) {
                case 0:
                    s.insert(at, b);
                    break;
                case 1:
                    if (at < s.size()) s.erase(at, 1);
                    break;
                default:
                    if (at < s.size()) s[at] = b.empty() ? '\0' : b[0];
            }
        }
        return s;
    }

  private:
    std::mt19937_64 rng_;
};

// Fewer lines in unoptimised (sanitizer) builds, where the exact-size heap copies matter.
#ifdef NDEBUG
constexpr int kLines = 1'000'000;
#else
constexpr int kLines = 250'000;
#endif

void require_no_mismatch(const Comparer& c) {
    INFO("first mismatching line: '" << c.first_mismatch() << "' (" << c.first_mismatch().size()
                                     << " bytes)");
    REQUIRE(c.mismatches() == 0);
}

}  // namespace

TEST_CASE("SIMD selection scanner reads the common shape itself, with the right values") {
    std::array<int32_t, kMaxTopK> ids;
    simd::SelectionFields f;
    const std::string_view line = "12,52 40 85 110 79 113 60 130";
#if defined(__SSSE3__)
    REQUIRE(simd::scan_selection(line.data(), line.size(), ids.data(), f));
    CHECK(f.layer == 12);
    REQUIRE(f.n == 8);
    CHECK(std::vector<int32_t>(ids.begin(), ids.begin() + 8) ==
          std::vector<int32_t>{52, 40, 85, 110, 79, 113, 60, 130});
    CHECK(f.max_id == 130);
    // Four-digit ids and layers: read here, judged by the caller (9999 > kMaxExpert).
    const std::string_view wide = "1023,\t4095  9999 0 ";
    REQUIRE(simd::scan_selection(wide.data(), wide.size(), ids.data(), f));
    CHECK(f.layer == 1023);
    REQUIRE(f.n == 3);
    CHECK(ids[0] == 4095);
    CHECK(ids[1] == 9999);
    CHECK(ids[2] == 0);
    CHECK(f.max_id == 9999);
#endif
    // Not the common shape: left to the scalar reference.
    for (std::string_view other : {"12,-3 4", "12,00005", "-1,2", "12,", "12, ", "12,1,2",
                                   "12345,1", "1,2 x", "1,2\x01", "12;52", "1,2.5"}) {
        INFO(other);
        CHECK_FALSE(simd::scan_selection(other.data(), other.size(), ids.data(), f));
    }
    const std::string long_line = "1," + std::string(62, '7');
    CHECK_FALSE(simd::scan_selection(long_line.data(), long_line.size(), ids.data(), f));
}

TEST_CASE("SIMD selection scanner and scalar reference judge known lines alike") {
    struct Case {
        std::string_view line;
        bool ok;
        RejectReason why;
    };
    const Case cases[] = {
        {"12,52 40 85 110 79 113 60 130", true, RejectReason::malformed},
        {"12,4096 1", false, RejectReason::expert_out_of_range},
        {"12,1 9999", false, RejectReason::expert_out_of_range},
        {"1024,1 2", false, RejectReason::layer_out_of_range},
        {"9999,1", false, RejectReason::layer_out_of_range},
        {"12,-3 4", false, RejectReason::expert_out_of_range},
        {"12, \t", false, RejectReason::malformed},
        {"12,1 2\x01", false, RejectReason::binary},
        {"0012,0000000000000000000007", true, RejectReason::malformed},
    };
    for (const auto& c : cases) {
        INFO(c.line);
        std::array<int32_t, kMaxTopK> ids;
        for (const SelectionScan s :
             {scan_selection(c.line, ids), scan_selection_scalar(c.line, ids)}) {
            CHECK(s.ok == c.ok);
            CHECK(reject_reason_name(s.why) == reject_reason_name(c.why));
        }
    }
}

TEST_CASE("SIMD selection scanner: ids at every offset and across 16-byte blocks") {
    // Known values: each id width at each start offset 2..63, so ids straddle the block
    // boundaries at 16, 32 and 48 and lines end at every length up to 64.
    test::GuardedBuffer guard(4096);
    size_t fast = 0, short_lines = 0;
    for (size_t width = 1; width <= 4; ++width) {
        for (size_t pad = 0; pad + 2 + width <= simd::kSelectionMaxBytes; ++pad) {
            for (size_t tail = 0; tail <= 2; ++tail) {
                const std::string id = std::string("2345").substr(4 - width);
                const std::string line = "7," + std::string(pad, ' ') + id + std::string(tail, ' ');
                const std::string_view at = guard.place(line);
                INFO("'" << line << "'");
                std::array<int32_t, kMaxTopK> ids;
                const SelectionScan s = scan_selection(at, ids);
                REQUIRE(s.ok);
                CHECK(s.layer == 7);
                REQUIRE(s.n == 1);
                CHECK(ids[0] == std::stoi(id));
                simd::SelectionFields f;
                fast += simd::scan_selection(at.data(), at.size(), ids.data(), f);
                short_lines += line.size() <= simd::kSelectionMaxBytes;
            }
        }
    }
#if defined(__SSSE3__)
    // Every one of at most 64 bytes has the common shape: the fast path read them all.
    CHECK(fast == short_lines);
#endif
}

TEST_CASE("SIMD selection scanner agrees with the scalar reference on random lines") {
    LineGen gen(18);
    Comparer c;
    for (int i = 0; i < kLines; ++i)
        c.check(gen.well_formed());
    require_no_mismatch(c);
#if defined(__SSSE3__)
    // About 60 % of these lines have the common shape; the fast path must read them.
    CHECK(c.fast() > c.lines() / 3);
#endif
}

TEST_CASE("SIMD selection scanner agrees with the scalar reference on hostile lines") {
    LineGen gen(1818);
    Comparer c;
    for (int round = 0; round < kLines / 400; ++round) {
        for (size_t len = 0; len <= 200; ++len) {
            std::string s = gen.hostile(len);
            if (!s.empty() && gen.one_in(2)) s[0] = static_cast<char>('0' + gen.below(10));
            c.check(s);
        }
    }
    require_no_mismatch(c);
}

TEST_CASE("SIMD selection scanner agrees with the scalar reference on mutated lines") {
    LineGen gen(181818);
    Comparer c;
    for (int i = 0; i < kLines; ++i)
        c.check(gen.mutate(gen.well_formed()));
    require_no_mismatch(c);
#if defined(__SSSE3__)
    CHECK(c.fast() > c.lines() / 10);
#endif
}
