// Issue 28: the data-quality policy. Records a check proves wrong are left out of every
// figure (unless --keep-suspect), counted per source, tag and layer; what is kept is counted
// in the order of the log, so the figures equal those of the trustworthy records alone.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "analytics/aggregates.hpp"
#include "ingest/stream_ingest.hpp"

using namespace moe;

namespace {

constexpr int kExperts = 64, kTopK = 8, kLayers = 4;

struct Row {
    int layer;
    std::vector<int> ids;
    bool trusted;  // what the patch wrote right: a batch's first row
};

// A patched llama-server's log of passes over kLayers layers: multi-token prompt batches
// (rows after the first are slices of token 0's full ranking when `defective`, as the patch
// wrote them) and single-token generation. E = 64, k = 8, so E/k = 8 rows show the defect.
std::vector<Row> server_rows(unsigned seed, bool defective, int passes = 60) {
    std::mt19937 rng(seed);
    std::vector<int> perm(kExperts);
    std::iota(perm.begin(), perm.end(), 0);
    std::vector<Row> rows;
    for (int p = 0; p < passes; ++p) {
        const int batch = std::array{1, 1, 1, 3, 20, 40}[rng() % 6];  // 3: too short to show
        for (int layer = 0; layer < kLayers; ++layer) {
            std::vector<std::vector<int>> ranking(static_cast<size_t>(batch));
            for (auto& r : ranking) {
                std::shuffle(perm.begin(), perm.end(), rng);
                r = perm;
            }
            for (int t = 0; t < batch; ++t) {
                // Row t read contiguously: token (t*k / E)'s ranking from position t*k % E.
                const auto& src = defective ? ranking[static_cast<size_t>(t * kTopK / kExperts)]
                                            : ranking[static_cast<size_t>(t)];
                const size_t from = defective ? static_cast<size_t>(t * kTopK % kExperts) : 0;
                rows.push_back({layer, {src.begin() + from, src.begin() + from + kTopK}, t == 0});
            }
        }
    }
    return rows;
}

std::string csv(const std::vector<Row>& rows) {
    std::string s = "layer_id,expert_ids\n";
    for (const Row& r : rows) {
        s += std::to_string(r.layer) + ",";
        for (size_t i = 0; i < r.ids.size(); ++i)
            s += (i ? " " : "") + std::to_string(r.ids[i]);
        s += "\n";
    }
    return s;
}

struct Counted {
    Aggregates agg;
    SourceStats stats;
    explicit Counted(const std::string& bytes, bool keep = false, size_t cut = 0)
        : agg(options(keep)) {
        std::string state;
        {
            StreamIngest in(agg, stats, Format::auto_detect);
            in.feed(cut ? bytes.substr(0, cut) : bytes);
            if (!cut) {
                in.finish();
                return;
            }
            state = in.checkpoint();
            cut = in.consumed();
        }
        StreamIngest again(agg, stats, Format::auto_detect);  // a daemon restarted there
        again.reset(cut);
        REQUIRE(again.restore(state));
        again.feed(bytes.substr(cut));
        again.finish();
    }
    // k stated: no layer's first records wait on top-k probation, so the log's order is
    // the counting order of the reference too.
    static AnalyticsOptions options(bool keep) {
        AnalyticsOptions o;
        o.keep_suspect = keep;
        o.top_k = kTopK;
        return o;
    }
};

// The reference: the rows `keep` selects counted in log order by the aggregates directly.
void require_counts_of(const Counted& c, const std::vector<Row>& rows, bool trusted_only) {
    Aggregates ref(Counted::options(true));
    for (const Row& r : rows) {
        if (trusted_only && !r.trusted) continue;
        RoutingRecord rec;
        rec.layer = r.layer;
        std::vector<int32_t> ids(r.ids.begin(), r.ids.end());
        rec.experts = ids;
        REQUIRE_FALSE(ref.add_routing(kAllTag, rec));
    }
    for (int l = 0; l < kLayers; ++l) {
        const LayerStats& want = *ref.tag(kAllTag).layer(l);
        const LayerStats& got = *c.agg.tag(kAllTag).layer(l);
        INFO("layer " << l);
        REQUIRE(got.tokens == want.tokens);
        REQUIRE(got.hits == want.hits);
        REQUIRE(got.cooc.counts() == want.cooc.counts());
        for (size_t e = 0; e < got.num_experts(); ++e)  // the same order: the same EMA
            REQUIRE(got.ema.value(e) == Approx(want.ema.value(e)).epsilon(1e-12));
    }
    for (size_t e = 0; e < kExperts; ++e)
        REQUIRE(c.agg.tag(kAllTag).global.ema.value(e) ==
                Approx(ref.tag(kAllTag).global.ema.value(e)).epsilon(1e-12));
}

uint64_t untrusted(const std::vector<Row>& rows, int layer = -1) {
    return static_cast<uint64_t>(std::count_if(rows.begin(), rows.end(), [&](const Row& r) {
        return !r.trusted && (layer < 0 || r.layer == layer);
    }));
}

}  // namespace

TEST_CASE("a defective server log counts each batch's first row only", "[quality]") {
    const std::vector<Row> rows = server_rows(3, true);
    const std::string log = csv(rows);
    const Counted c(log);
    REQUIRE(c.stats.batches_strided > 10);
    CHECK(c.stats.batches_strided == c.stats.batches_checked);  // every long batch shows it
    CHECK(c.stats.strided_streams == 1);
    // Also the first batch (whose E was not known when it started) and the 3-row ones.
    CHECK(c.stats.strided_excluded == untrusted(rows));
    CHECK(c.stats.records + c.stats.strided_excluded == rows.size());
    require_counts_of(c, rows, true);
    const auto s = static_cast<size_t>(Suspect::strided_view);
    for (int l = 0; l < kLayers; ++l)
        CHECK(c.agg.tag(kAllTag).layer(l)->left_out[s] == untrusted(rows, l));
    CHECK(c.agg.tag(kAllTag).global.left_out[s] == untrusted(rows));

    // Resumed from a checkpoint at every 997th byte: the same (held rows are in it).
    for (size_t cut = 997; cut < log.size(); cut += 997 * 7) {
        const Counted r(log, false, cut);
        INFO("cut at " << cut);
        REQUIRE(r.stats.strided_excluded == c.stats.strided_excluded);
        require_counts_of(r, rows, true);
    }
    // --keep-suspect: every row counts, the defect is still detected.
    const Counted keep(log, true);
    CHECK(keep.stats.strided_excluded == 0);
    CHECK(keep.stats.batches_strided == c.stats.batches_strided);
    require_counts_of(keep, rows, false);
}

TEST_CASE("an honest server log loses nothing, in the order of the log", "[quality]") {
    const std::vector<Row> rows = server_rows(4, false);
    const Counted c(csv(rows));
    CHECK(c.stats.batches_strided == 0);
    CHECK(c.stats.strided_streams == 0);
    CHECK(c.stats.strided_excluded == 0);
    require_counts_of(c, rows, false);
}

TEST_CASE("a defective stream is clean again from the first batch that repeats an id",
          "[quality]") {
    // Found by a review: three batches planted at a clean log's start decided "defective"
    // and every later row after a batch's first was left out (68 % of the log), though 61
    // later batches repeated ids, which the defect never does. Here: a defective build's
    // passes, then an honest build's in the same stream (no header between them).
    const std::vector<Row> bad = server_rows(5, true, 12), good = server_rows(6, false, 60);
    std::vector<Row> rows = bad;
    rows.insert(rows.end(), good.begin(), good.end());
    // The reference: every untrusted row of the defective part; in the honest part, while
    // still defective, rows 2.. of a batch until the one that repeats an id within the
    // batch's first E/k rows (that row counts, and every row after it).
    uint64_t want = untrusted(bad);
    std::vector<bool> kept(rows.size(), true);
    for (size_t i = 0; i < bad.size(); ++i)
        kept[i] = bad[i].trusted;
    bool defective = true;
    for (size_t i = bad.size(), start = i; i < rows.size() && defective; ++i) {
        if (i > bad.size() && rows[i].layer != rows[i - 1].layer) start = i;
        bool repeat = false;
        std::vector<bool> seen(kExperts, false);
        for (size_t j = start; j <= i && j - start < kExperts / kTopK; ++j)
            for (int e : rows[j].ids) {
                repeat = repeat || seen[static_cast<size_t>(e)];
                seen[static_cast<size_t>(e)] = true;
            }
        if (i == start) continue;  // a batch's first row always counts
        if (repeat)
            defective = false;
        else
            ++want, kept[i] = false;
    }
    REQUIRE(defective == false);
    const Counted c(csv(rows));
    CHECK(c.stats.strided_streams == 1);
    CHECK(c.stats.strided_excluded == want);
    CHECK(want < untrusted(bad) + 8);  // the honest part loses a few rows of one batch at most
    std::vector<Row> counted;
    for (size_t i = 0; i < rows.size(); ++i)
        if (kept[i]) counted.push_back(rows[i]);
    require_counts_of(c, counted, false);
}

TEST_CASE("a batch too short to check that repeats an id proves the stream honest", "[quality]") {
    // E = 16, k = 2: no batch reaches E/k = 8 rows, so none is checked; the second batch
    // repeats expert 3 in its first rows, which the defect never does.
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::llama_csv);
    in.feed("layer_id,expert_ids\n0,15 1\n0,2 4\n1,3 5\n1,3 6\n1,7 8\n");
    CHECK(stats.batches_checked == 0);
    CHECK(in.strided_policy().verdict() == StridedPolicy::Verdict::clean);
    CHECK(stats.records == 5);  // nothing waits any more
    CHECK(stats.strided_excluded == 0);
}

TEST_CASE("the chance of the pattern in honest routing decides how many batches prove it",
          "[quality]") {
    // Mixtral: 8! / 2!^4 sequences of 4 disjoint pairs among 28^4 sequences of 4 pairs.
    CHECK(StridedPolicy::chance(8, 2) == Approx(2520.0 / 614656.0));
    CHECK(StridedPolicy::chance(64, 8) < 1e-20);
    CHECK(StridedPolicy::chance(60, 7) == 1.0);  // k does not divide E: never checked
    StridedPolicy p;  // E = 8, k = 2: three strided batches before the verdict
    CHECK_FALSE(p.checked(true, 8, 2));
    CHECK_FALSE(p.checked(true, 8, 2));
    CHECK(p.checked(true, 8, 2));
    CHECK(p.verdict() == StridedPolicy::Verdict::defective);
    StridedPolicy q;  // one batch that is not strided: honest
    CHECK(q.checked(false, 64, 8));
    CHECK(q.verdict() == StridedPolicy::Verdict::clean);
}

TEST_CASE("only a format that may carry the defect waits for the verdict", "[quality]") {
    // NDJSON hooks never had the llama-server patch: a second row counts at once.
    Aggregates agg;
    SourceStats stats;
    StreamIngest in(agg, stats, Format::ndjson);
    in.feed("{\"layer\": 0, \"experts\": [1, 2]}\n{\"layer\": 0, \"experts\": [3, 4]}\n");
    CHECK(stats.records == 2);
}
