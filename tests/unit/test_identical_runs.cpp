// IdenticalRuns on its own: run lengths per layer, and its checkpoint encoding, which is
// stored in databases and must stay readable (the bytes are pinned here).
#include <catch2/catch.hpp>

#include "ingest/identical_runs.hpp"

using namespace moe;

namespace {
struct Rec {
    int32_t layer;
    std::vector<int32_t> experts;
    std::vector<float> weights;
    RoutingRecord view() const {
        RoutingRecord r;
        r.layer = layer;
        r.experts = experts;
        r.weights = weights;
        return r;
    }
};

uint64_t observe(IdenticalRuns& runs, const Rec& r) {
    return runs.observe(r.view());
}

std::string saved(const IdenticalRuns& runs) {
    StateWriter w;
    runs.save(w);
    return w.take();
}
}  // namespace

TEST_CASE("identical runs count per layer, ids in order and weights compared as floats") {
    IdenticalRuns runs;
    CHECK(observe(runs, {3, {1, 2}, {}}) == 1);
    CHECK(observe(runs, {0, {1, 2}, {}}) == 1);  // another layer: its own run
    CHECK(observe(runs, {3, {1, 2}, {}}) == 2);
    CHECK(observe(runs, {0, {1, 2}, {}}) == 2);
    CHECK(observe(runs, {3, {2, 1}, {}}) == 1);  // the same ids in another order break it
    CHECK(observe(runs, {3, {2, 1}, {}}) == 2);
    CHECK(observe(runs, {3, {2, 1, 4}, {}}) == 1);  // a longer top-k with the same prefix
    CHECK(observe(runs, {3, {2, 1}, {}}) == 1);
    CHECK(observe(runs, {7, {5}, {0.0f}}) == 1);
    CHECK(observe(runs, {7, {5}, {-0.0f}}) == 2);  // -0 == 0, as floats compare
    CHECK(observe(runs, {7, {5}, {}}) == 1);       // weights, then none: not the same
    CHECK(observe(runs, {7, {5}, {0.5f}}) == 1);
    CHECK(observe(runs, {1023, {5}, {}}) == 1);  // the largest layer id
    CHECK(observe(runs, {1023, {5}, {}}) == 2);
}

TEST_CASE("the identical-runs checkpoint keeps its encoding") {
    IdenticalRuns runs;
    observe(runs, {12, {4, 9}, {}});
    observe(runs, {2, {7}, {0.25f}});
    observe(runs, {12, {4, 9}, {}});
    observe(runs, {12, {4, 9}, {}});

    // Layers ascending: layer, run length, k, ids, weights; then the held records (none).
    StateWriter w;
    w.put<uint32_t>(2);
    w.put<int32_t>(2);
    w.put<uint64_t>(1);
    w.put<uint32_t>(1);
    w.put<int32_t>(7);
    const float quarter = 0.25f;
    w.put_floats(std::span(&quarter, 1));
    w.put<int32_t>(12);
    w.put<uint64_t>(3);
    w.put<uint32_t>(2);
    w.put<int32_t>(4);
    w.put<int32_t>(9);
    w.put_floats({});
    save_held(w, {});
    const std::string expected = w.take();
    REQUIRE(saved(runs) == expected);

    // Restored, the runs continue where they were.
    IdenticalRuns back;
    StateReader r(expected);
    REQUIRE(back.restore(r));
    CHECK(r.at_end());
    CHECK(saved(back) == expected);
    CHECK(observe(back, {12, {4, 9}, {}}) == 4);
    CHECK(observe(back, {2, {7}, {0.25f}}) == 2);
    CHECK(observe(back, {5, {7}, {0.25f}}) == 1);

    IdenticalRuns empty;
    const std::string none = saved(IdenticalRuns{});
    StateReader e(none);
    CHECK(empty.restore(e));
    CHECK(saved(empty) == none);
}

TEST_CASE("a restored checkpoint replaces the state, and a broken one is refused") {
    IdenticalRuns runs;
    observe(runs, {1, {3}, {}});
    IdenticalRuns other;
    observe(other, {4, {6}, {}});
    const std::string bytes = saved(other);
    StateReader r(bytes);
    REQUIRE(runs.restore(r));
    CHECK(saved(runs) == bytes);
    CHECK(observe(runs, {1, {3}, {}}) == 1);  // layer 1's run is gone with the old state

    for (size_t n = 0; n < bytes.size(); ++n) {  // every truncation
        IdenticalRuns t;
        StateReader cut(std::string_view(bytes).substr(0, n));
        CHECK_FALSE(t.restore(cut));
    }
    StateWriter w;  // a top-k beyond kMaxTopK
    w.put<uint32_t>(1);
    w.put<int32_t>(0);
    w.put<uint64_t>(1);
    w.put<uint32_t>(static_cast<uint32_t>(kMaxTopK) + 1);
    IdenticalRuns t;
    const std::string too_many = w.take();
    StateReader big(too_many);
    CHECK_FALSE(t.restore(big));
    for (int32_t layer : {-1, kMaxLayer + 1}) {  // never observed: records are validated first
        StateWriter bad;
        bad.put<uint32_t>(1);
        bad.put<int32_t>(layer);
        bad.put<uint64_t>(1);
        bad.put<uint32_t>(0);
        bad.put_floats({});
        save_held(bad, {});
        const std::string out_of_range = bad.take();
        StateReader rb(out_of_range);
        CHECK_FALSE(t.restore(rb));
    }
}

TEST_CASE("a later chunk continues a run only when its first record equals our last") {
    IdenticalRuns a, b, c;
    observe(a, {0, {1, 2}, {}});
    observe(a, {5, {3, 4}, {}});
    observe(b, {5, {3, 4}, {}});  // b's first of layer 5 equals a's last of it
    observe(b, {5, {4, 3}, {}});
    observe(c, {5, {4, 3}, {}});
    observe(c, {6, {1, 2}, {}});  // a layer a never saw
    CHECK(a.continued_by(b));
    CHECK_FALSE(a.continued_by(c));
    a.advance(b);  // b's last records become ours
    CHECK(a.continued_by(c));
    CHECK(observe(a, {0, {1, 2}, {}}) == 2);  // layers b did not see keep their runs
}
