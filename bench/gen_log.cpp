// Deterministic generator of realistic MoE routing logs for the benchmarks.
//   gen_log --shape qwen3|deepseek --format csv|gate|ndjson --mb 200 [--seed 1] [--batch N] > file
// Shapes: qwen3 = Qwen3-30B-A3B (48 layers, 128 experts, top-8, n_embd 2048);
//         deepseek = DeepSeek-V3 (58 layers, 256 experts, top-8, n_embd 7168).
// Routing is Zipf-skewed (s = 1.1) with a different hot set per layer. Formats:
//   csv    llama-server selection lines ("12,52 40 85 ...") with a header;
//   gate   llama-server gate_input lines for 4 consecutive layers, token 0 (n_embd floats,
//          6 significant digits as ostream prints them), between selection lines;
//   ndjson one object per line with layer, experts, weights, token, tag.
// --batch N (csv only): every forward pass is a batch of N tokens, N rows per layer in a row,
// as llama-server writes a prompt (default 1: single-token generation).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Shape {
    int layers, experts, top_k, n_embd;
};

struct Router {
    std::vector<std::vector<int>> perm;  // per layer: rank -> expert
    std::vector<double> cdf;             // Zipf over ranks
    std::mt19937_64 rng;

    Router(const Shape& s, uint64_t seed) : rng(seed) {
        for (int l = 0; l < s.layers; ++l) {
            std::vector<int> p(s.experts);
            for (int e = 0; e < s.experts; ++e)
                p[e] = e;
            std::shuffle(p.begin(), p.end(), rng);
            perm.push_back(p);
        }
        double z = 0;
        for (int r = 0; r < s.experts; ++r)
            cdf.push_back(z += 1.0 / std::pow(r + 1, 1.1));
        for (double& c : cdf)
            c /= z;
    }

    void pick(int layer, int k, std::vector<int>& out) {
        out.clear();
        std::uniform_real_distribution<double> u(0, 1);
        while (static_cast<int>(out.size()) < k) {
            const auto r = std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin();
            const int e = perm[layer][std::min<size_t>(r, cdf.size() - 1)];
            if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    std::string shape = "qwen3", format = "csv";
    double mb = 100;
    uint64_t seed = 1;
    int batch = 1;
    // A bad argument writes nothing: a typo must not silently produce 100 MB of the default.
    const auto usage_error = [](const std::string& why) {
        std::fprintf(stderr, "gen_log: %s (see gen_log --help)\n", why.c_str());
        return 2;
    };
    for (int i = 1; i < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::printf(
                "gen_log [--shape qwen3|deepseek] [--format csv|gate|ndjson] [--mb N] [--seed S] "
                "[--batch N]\n"
                "Writes a deterministic routing log of about N MB (default 100) to stdout.\n");
            return 0;
        }
        if (i + 1 >= argc) return usage_error(flag + " needs a value");
        const std::string value = argv[i + 1];
        char* end = nullptr;
        if (flag == "--shape")
            shape = value;
        else if (flag == "--format")
            format = value;
        else if (flag == "--mb") {
            mb = std::strtod(value.c_str(), &end);
            if (end == value.c_str() || *end || !(mb > 0))
                return usage_error("--mb: not a positive number: " + value);
        } else if (flag == "--seed") {
            seed = std::strtoull(value.c_str(), &end, 10);
            if (end == value.c_str() || *end)
                return usage_error("--seed: not an integer: " + value);
        } else if (flag == "--batch") {
            const long b = std::strtol(value.c_str(), &end, 10);
            if (end == value.c_str() || *end || b < 1 || b > 4096)
                return usage_error("--batch: not a number of tokens in 1..4096: " + value);
            batch = static_cast<int>(b);
        } else
            return usage_error("unknown option " + flag);
    }
    if (shape != "qwen3" && shape != "deepseek")
        return usage_error("--shape: qwen3 or deepseek, not " + shape);
    if (format != "csv" && format != "gate" && format != "ndjson")
        return usage_error("--format: csv, gate or ndjson, not " + format);
    if (batch > 1 && format != "csv") return usage_error("--batch: only with --format csv");
    const Shape s = shape == "deepseek" ? Shape{58, 256, 8, 7168} : Shape{48, 128, 8, 2048};
    Router router(s, seed);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    const uint64_t target = static_cast<uint64_t>(mb * 1e6);
    uint64_t written = 0;
    std::string out;
    out.reserve(1 << 22);
    std::vector<int> ex;
    std::vector<float> resid(s.n_embd);
    auto flush = [&] {
        std::fwrite(out.data(), 1, out.size(), stdout);
        written += out.size();
        out.clear();
    };
    char buf[64];
    const auto csv_row = [&](int layer) {
        out += std::to_string(layer);
        out += ',';
        for (int i = 0; i < s.top_k; ++i) {
            if (i) out += ' ';
            out += std::to_string(ex[i]);
        }
        out += '\n';
    };
    if (format != "ndjson") out += "layer_id,expert_ids\n";
    for (uint64_t token = 0; written + out.size() < target; ++token) {
        if (format == "gate")
            for (float& x : resid)
                x = gauss(router.rng);
        for (int l = 0; l < s.layers; ++l) {
            if (format == "gate" && l >= 20 && l < 24) {
                out += "gate_input,";
                out += std::to_string(l);
                out += ",0,";
                for (int i = 0; i < s.n_embd; ++i) {
                    resid[i] += 0.3f * gauss(router.rng);
                    const int n = std::snprintf(buf, sizeof buf, i ? " %g" : "%g",
                                                resid[i] * (i % 97 ? 1.0f : 1e-5f));
                    out.append(buf, n);
                }
                out += '\n';
            }
            for (int t = 1; t < batch; ++t) {  // a batch's first N-1 rows; the last below
                router.pick(l, s.top_k, ex);
                csv_row(l);
            }
            router.pick(l, s.top_k, ex);
            if (format == "ndjson") {
                out += "{\"layer\": " + std::to_string(l) + ", \"experts\": [";
                for (int i = 0; i < s.top_k; ++i)
                    out += (i ? ", " : "") + std::to_string(ex[i]);
                out += "], \"weights\": [";
                for (int i = 0; i < s.top_k; ++i) {
                    const int n =
                        std::snprintf(buf, sizeof buf, i ? ", %.4f" : "%.4f", 0.3 / (i + 1));
                    out.append(buf, n);
                }
                out += "], \"token\": " + std::to_string(token % 4096) + ", \"tag\": \"" +
                       (token % 3 ? "code" : "math") + "\"}\n";
            } else {
                csv_row(l);
            }
            if (out.size() > (1 << 21)) flush();
        }
    }
    flush();
    return 0;
}
