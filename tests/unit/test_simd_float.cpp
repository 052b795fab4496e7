// The SIMD short-decimal float path (parsers/simd_float.hpp) against fast_float, bit for bit:
// random float bit patterns and typical gate values printed in the spellings loggers use
// (%g, %.9g, %e, %f, shortest float and double, Python repr), random decimal strings and
// hostile tokens; one token at a time, and as whole lines through parse_float_list with and
// without the fast path, each line ending at an unreadable page.
#include <catch2/catch.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "guarded_buffer.hpp"
#include "parsers/number_scan.hpp"
#include "parsers/simd_float.hpp"

namespace {

#ifdef NDEBUG
constexpr int kFloats = 400'000;
#else
constexpr int kFloats = 60'000;  // sanitizer builds: slower, the guard page matters more
#endif

uint32_t bits_of(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

std::string printf_float(const char* fmt, float f) {
    char buf[128];
    std::snprintf(buf, sizeof buf, fmt, static_cast<double>(f));
    return buf;
}

template <class T>
std::string shortest(T v) {
    char buf[64];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// Python's repr of a double: the shortest round trip, exponent form below 1e-4 and from 1e16.
std::string python_repr(double d) {
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    const double a = std::fabs(d);
    if (a >= 1e-4 && a < 1e16) {
        std::string s = shortest(d);
        if (s.find_first_of(".e") == std::string::npos) s += ".0";
        return s;
    }
    char buf[64];
    std::string s(buf, std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific).ptr);
    const size_t e = s.find('e');  // C++ writes e-05 like Python; Python writes e+16 too
    if (s[e + 1] != '-' && s[e + 1] != '+') s.insert(e + 1, "+");
    return s;
}

std::vector<std::string> spellings(float f) {
    std::vector<std::string> out = {printf_float("%g", f),    printf_float("%.9g", f),
                                    printf_float("%e", f),    printf_float("%.3e", f),
                                    printf_float("%f", f),    printf_float("%.1f", f),
                                    printf_float("%.7g", f),  printf_float("%.12g", f),
                                    printf_float("%.17g", f), shortest(f),
                                    shortest(double(f)),      python_repr(double(f))};
    return out;
}

// Checks one token alone: if the fast path reads it, it must give fast_float's bits and
// end where fast_float ends, past the separators. Counts the tokens it read.
struct TokenChecker {
    size_t tokens = 0, fast = 0, mismatches = 0;
    std::string first;

    void check(const std::string& tok) {
        ++tokens;
        // Padded so the window is readable; the padding starts with a non-separator.
        const std::string padded = tok + " x" + std::string(moe::simd::kFloatWindow, 'x');
        float got = 0;
        const char* q = moe::simd::parse_short_float(padded.data(), got);
        if (q == nullptr) return;
        ++fast;
        // fast_float on the same bytes: the same bits, the same number's end (then spaces).
        const char* end = padded.data() + padded.size();
        float want = 0;
        const auto res = fast_float::from_chars(padded.data(), end, want);
        const bool same = res.ec == std::errc() && (*res.ptr == ' ' || *res.ptr == '\t') &&
                          q == moe::scan::skip_spaces(res.ptr, end) &&
                          bits_of(got) == bits_of(want);
        if (!same && mismatches++ == 0) first = tok;
    }
};

// Joins tokens into a line and compares parse_float_list with and without the fast path.
struct LineChecker {
    moe::test::GuardedBuffer guard{1 << 16};
    size_t lines = 0, mismatches = 0;
    std::string first;

    void check(const std::string& line) {
        ++lines;
        const std::string_view at = guard.place(line);
        std::vector<float> fast, ref;
        const auto a = moe::scan::parse_float_list<true>(at.data(), at.data() + at.size(), fast);
        const auto b = moe::scan::parse_float_list<false>(at.data(), at.data() + at.size(), ref);
        const bool same = a == b && fast.size() == ref.size() &&
                          (fast.empty() ||
                           std::memcmp(fast.data(), ref.data(), fast.size() * sizeof(float)) == 0);
        if (!same && mismatches++ == 0) first = line;
    }
};

class FloatGen {
  public:
    explicit FloatGen(uint64_t seed) : rng_(seed) {}
    size_t below(size_t n) { return static_cast<size_t>(rng_() % n); }

    float any_bits() {
        for (;;) {
            const uint32_t b = static_cast<uint32_t>(rng_());
            float f;
            std::memcpy(&f, &b, 4);
            if (std::isfinite(f)) return f;
        }
    }
    // Gate-like values: mostly within 1e-7..1e3 of zero, either sign.
    float typical() {
        const float mag = std::ldexp(static_cast<float>(rng_() >> 40) / float(1 << 24),
                                     static_cast<int>(below(34)) - 24);
        return below(2) ? -mag : mag;
    }
    std::string digits(size_t n) {
        std::string s;
        for (size_t i = 0; i < n; ++i)
            s += static_cast<char>('0' + below(10));
        return s;
    }
    // Plain decimals of every length the window holds and beyond, with leading zeros.
    std::string decimal() {
        std::string s = below(2) ? "-" : "";
        s += below(8) == 0 ? std::string(1 + below(4), '0') : "";
        s += digits(1 + below(below(4) == 0 ? 17 : 8));
        if (below(6)) s += "." + digits(below(below(4) == 0 ? 17 : 9));
        if (below(12) == 0)
            s += (below(2) ? "e" : "E") + std::string(below(2) ? "-" : "") + digits(1 + below(2));
        return s;
    }
    std::string hostile() {
        static const char* kTokens[] = {".5",
                                        "5.",
                                        "-.5",
                                        "+1",
                                        "1e",
                                        "1e+",
                                        "--1",
                                        "-",
                                        ".",
                                        "0x1p3",
                                        "inf",
                                        "-inf",
                                        "nan",
                                        "NaN",
                                        "1.5.5",
                                        "1,5",
                                        "1e99",
                                        "1e-99",
                                        "-0",
                                        "0",
                                        "-0.0",
                                        "00000000000000.1",
                                        "1\x01",
                                        "\xff",
                                        "1_000",
                                        "16777217",
                                        "16777219",
                                        "8388608.5",
                                        "33554434",
                                        "0.000000000000001",
                                        "999999999999999",
                                        "9999999999999999",
                                        "1.00000005960464",
                                        "3.4028235e38"};
        std::string t = kTokens[below(sizeof kTokens / sizeof *kTokens)];
        if (below(4) == 0) t = digits(1 + below(20));
        if (below(4) == 0 && !t.empty()) t[below(t.size())] = "e.-+ x\t"[below(7)];
        return t;
    }
    std::string separator() {
        return below(8) ? " " : std::string(1 + below(3), below(2) ? '\t' : ' ');
    }

  private:
    std::mt19937_64 rng_;
};

// Appends a token to the line; one time in `one_in` checks the line and starts another.
void add_to_line(FloatGen& gen, LineChecker& lines, std::string& line, const std::string& tok,
                 size_t one_in) {
    line += tok + gen.separator();
    if (gen.below(one_in) != 0) return;
    if (gen.below(2)) line.pop_back();  // half the lines end in a number, not a separator
    lines.check(line);
    line.clear();
}

template <class Checker>
void require_clean(const Checker& c) {
    INFO("first mismatch: '" << c.first << "'");
    REQUIRE(c.mismatches == 0);
}

}  // namespace

TEST_CASE("SIMD float path: known tokens, values and fallbacks") {
    const auto read = [](std::string tok, float& f) {
        tok += " 1" + std::string(moe::simd::kFloatWindow, ' ');
        return moe::simd::parse_short_float(tok.data(), f) != nullptr;
    };
    float f = 0;
#if defined(__SSE4_1__)
    REQUIRE(read("-0.775347", f));
    CHECK(f == -0.775347f);
    REQUIRE(read("1.16519", f));
    CHECK(f == 1.16519f);
    REQUIRE(read("42", f));
    CHECK(f == 42.0f);
    REQUIRE(read("-0", f));
    CHECK(bits_of(f) == 0x80000000u);
    REQUIRE(read("0.100000001", f));  // 9 digits: m > 2^24, the double path
    CHECK(f == 0.1f);
    REQUIRE(read("1234567.012345", f));  // the widest: 14 bytes, the space, the next
    CHECK(f == 1234567.012345f);
#endif
    // Exponents, a leading '.', '+', inf/nan, 16 digits: fast_float's business.
    for (const char* tok : {"1.5e-05", ".5", "+1", "inf", "nan", "1234567890123456", "0x10"})
        CHECK_FALSE(read(tok, f));
    // Exactly halfway between two floats as a double: never rounded twice.
    for (const char* tok : {"16777217", "8388608.5", "33554434.0"})
        CHECK_FALSE(read(tok, f));
    // A token running to the end of the window, or only separators after it inside it.
    CHECK_FALSE(moe::simd::parse_short_float("0.1234567890123 ", f));
}

TEST_CASE("SIMD float path: every spelling of random float bit patterns") {
    FloatGen gen(18);
    TokenChecker tokens;
    for (int i = 0; i < kFloats / 4; ++i)
        for (const std::string& s : spellings(gen.any_bits()))
            tokens.check(s);
    require_clean(tokens);
    CHECK(tokens.fast > 0);
}

TEST_CASE("SIMD float path: gate-like values in every spelling, one at a time and as lines") {
    FloatGen gen(1818);
    TokenChecker tokens;
    LineChecker lines;
    std::string line;
    for (int i = 0; i < kFloats; ++i) {
        const float f = gen.typical();
        const std::vector<std::string> all = spellings(f);
        for (const std::string& s : all)
            tokens.check(s);
        add_to_line(gen, lines, line, all[gen.below(all.size())], 64);
    }
    require_clean(tokens);
    require_clean(lines);
#if defined(__SSE4_1__)
    // %g, %f, %.7g, shortest float: most spellings of these values are short decimals.
    CHECK(tokens.fast > tokens.tokens / 3);
#endif
}

TEST_CASE("SIMD float path: random decimal strings and hostile tokens") {
    FloatGen gen(181818);
    TokenChecker tokens;
    LineChecker lines;
    std::string line;
    for (int i = 0; i < kFloats * 2; ++i) {
        const std::string tok = gen.below(5) ? gen.decimal() : gen.hostile();
        tokens.check(tok);
        add_to_line(gen, lines, line, tok, 24);
    }
    require_clean(tokens);
    require_clean(lines);
#if defined(__SSE4_1__)
    CHECK(tokens.fast > tokens.tokens / 3);
#endif
}
