// `moescope diff A B`: the routing of two runs of one workload, token by token (docs/FIGURES.md
// "Routing diff"): two FILE arguments, or two tags of the inputs (--tag A --vs B). Records
// are aligned as they are read (tracing/routing_diff.hpp). Gates for CI ("the fp8 build
// still routes like bf16"): --fail-on on its metrics, and --fail-below X for overlap<X.
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/diff_json.hpp"
#include "cli/table.hpp"
#include "cli/token_inputs.hpp"
#include "cli/verdict.hpp"
#include "tracing/routing_diff.hpp"

namespace moe {

namespace {

struct DiffArgs final : CommandOptions {
    size_t window = RoutingDiff::kDefaultWindow;
    double fail_below = NAN;   // NaN: not given
    std::string tag_a, tag_b;  // --tag A --vs B: two tags instead of two FILE arguments
    std::unique_ptr<RoutingDiff> diff;
    bool a_read = false;  // the first FILE argument is read: B's records need not wait

    bool observes() const override { return true; }
    void observe(const Aggregates& agg, size_t input, TagId tag, const RoutingRecord& r) override {
        if (!diff) diff = std::make_unique<RoutingDiff>(window);
        if (tag_b.empty()) {
            if (input == 1 && !a_read) diff->end_of(DiffSide::a), a_read = true;
            if (input < 2) diff->add(input == 0 ? DiffSide::a : DiffSide::b, r);
            return;
        }
        const std::string& name = agg.tag(tag).name;
        if (in_run(name, tag_a))
            diff->add(DiffSide::a, r);
        else if (in_run(name, tag_b))
            diff->add(DiffSide::b, r);
    }
    void inputs_done() override {
        if (diff) diff->finish();
    }
};

std::string run_name(const Query& x, DiffSide s) {
    const auto& d = x.own<DiffArgs>();
    if (!d.tag_b.empty()) return "tag " + (s == DiffSide::a ? d.tag_a : d.tag_b);
    return x.args.files[static_cast<size_t>(s)];
}

// A run's heading line: its name and, for a FILE argument, what its lines gave, so a diff
// whose A lost lines to damage says so where a reader looks ("A malformed record costs only
// itself, is counted").
uint64_t rejected_lines(const Query& x, DiffSide s) {
    if (x.args.files.size() < 2 || !x.own<DiffArgs>().tag_b.empty()) return 0;
    const std::string& arg = x.args.files[static_cast<size_t>(s)];
    uint64_t n = 0;
    for (const SourceStats& src : x.sources)  // the file, or the files of a directory
        if (src.name == arg || (src.name.size() > arg.size() && src.name.starts_with(arg) &&
                                src.name[arg.size()] == '/'))
            n += src.total_rejects();
    return n;
}

std::string run_heading(const Query& x, DiffSide s, const RoutingDiff* diff) {
    std::string out = run_name(x, s);
    if (!diff || !x.own<DiffArgs>().tag_b.empty()) return out;
    const std::string& arg = x.args.files[static_cast<size_t>(s)];
    const uint64_t rejected = rejected_lines(x, s);
    out += " (" + fmt_num::integer(diff->records(s)) + " records";
    if (rejected)
        out += ", " + fmt_num::integer(rejected) + " lines rejected: moescope sources " + arg;
    return out + ")";
}

// The finished diff, or the one line saying why there is none.
const RoutingDiff& diff_of(const Query& x) {
    const auto& d = x.own<DiffArgs>();
    if (d.tag_b.empty() && x.args.files.size() > 2)
        throw std::invalid_argument(
            "diff compares two runs: give two FILE arguments (or one "
            "input and --tag A --vs B), not " +
            std::to_string(x.args.files.size()));
    if (d.tag_b.empty() && x.args.files.size() < 2)
        throw NoDataError(
            "diff compares two runs and was given one: give two FILE arguments, "
            "or --tag A --vs B for two tags of one input");
    if (!d.diff) throw NoDataError(run_name(x, DiffSide::a) + " has no routing records");
    const RoutingDiff& diff = *d.diff;
    for (DiffSide s : {DiffSide::a, DiffSide::b})
        if (diff.records(s) == 0) throw NoDataError(run_name(x, s) + " has no routing records");
    const bool req_a = diff.with_request(DiffSide::a) > 0,
               req_b = diff.with_request(DiffSide::b) > 0;
    if (req_a != req_b)
        throw NoDataError((req_a ? run_name(x, DiffSide::a) : run_name(x, DiffSide::b)) +
                          " names request ids and " +
                          (req_a ? run_name(x, DiffSide::b) : run_name(x, DiffSide::a)) +
                          " does not: no token can be aligned");
    const LayerDiff all = diff.all_layers();
    const uint64_t evicted = all.only_a[static_cast<size_t>(Unmatched::evicted)] +
                             all.only_b[static_cast<size_t>(Unmatched::evicted)];
    if (all.agreement.aligned == 0 && evicted > 0)
        throw NoDataError("no token aligned within --diff-window " + std::to_string(d.window) +
                          " (" + std::to_string(evicted) +
                          " records pushed out while waiting): give a window as large as the "
                          "records of " +
                          run_name(x, DiffSide::a));
    if (all.agreement.aligned == 0)
        throw NoDataError("no token of " + run_name(x, DiffSide::a) + " is in " +
                          run_name(x, DiffSide::b) +
                          (req_a ? " (no request id and token in common)"
                                 : " (records without request ids align by forward pass and row)"));
    return diff;
}

// What moescoped --diff A:B kept in the database (Aggregates::live_diffs): per-layer sums
// of the aligned tokens, without the per-token, position, phase and flip figures.
struct StoredDiff {
    const Aggregates::LiveDiff* layers = nullptr;
    DiffLayerCounts all;
};

StoredDiff stored_diff_of(const Query& x) {
    const auto& d = x.own<DiffArgs>();
    if (d.tag_b.empty())
        throw NoDataError(
            "diff on a database compares two tags: give --tag A --vs B (the "
            "tags of moescoped --diff A:B)");
    if (d.window != RoutingDiff::kDefaultWindow)
        throw std::invalid_argument(
            "--diff-window applies to FILE arguments; on a database it was moescoped's "
            "--diff-window");
    const auto it = x.agg.live_diffs().find({d.tag_a, d.tag_b});
    if (it == x.agg.live_diffs().end() || it->second.empty())
        throw NoDataError("the database " + x.db + " keeps no live diff of tag '" + d.tag_a +
                          "' against '" + d.tag_b + "' (moescoped --diff " + d.tag_a + ":" +
                          d.tag_b + " keeps it once records of both tags align)");
    StoredDiff out{&it->second, {}};
    for (const auto& [layer, l] : it->second)
        out.all.add(l);
    if (out.all.agreement.aligned == 0)
        throw NoDataError("no token of tag '" + d.tag_a + "' aligned with one of '" + d.tag_b +
                          "' yet (" + std::to_string(out.all.only_a + out.all.only_b) +
                          " records without a partner)");
    return out;
}

// One row of the per-layer table (layer -1: all layers), from FILE arguments or a database.
struct LayerLine {
    int32_t layer = -1;
    AgreementSums agreement;
    uint64_t only_a = 0, only_b = 0;
    double chance = NAN;  // chance_overlap: FILE arguments only (the daemon keeps sums)
};

std::vector<LayerLine> layer_lines(const Query& x) {
    std::vector<LayerLine> out;
    if (x.args.files.empty()) {
        const StoredDiff stored = stored_diff_of(x);
        for (const auto& [layer, l] : *stored.layers)
            out.push_back({layer, l.agreement, l.only_a, l.only_b});
        out.push_back({-1, stored.all.agreement, stored.all.only_a, stored.all.only_b});
        return out;
    }
    const RoutingDiff& diff = diff_of(x);
    for (const auto& [layer, l] : diff.layers())
        out.push_back({layer, l.agreement, l.only_a_total(), l.only_b_total(), chance_overlap(l)});
    const LayerDiff all = diff.all_layers();
    out.push_back(
        {-1, all.agreement, all.only_a_total(), all.only_b_total(), diff.chance_overlap_all()});
    return out;
}

struct Verdict {
    LowestOverlap lowest;
    bool checked = false, passed = true;
    double overall = NAN, chance = NAN, kappa = NAN;  // of all layers (kappa: FILE arguments)
};

Verdict verdict_of(const Query& x, const std::vector<LayerLine>& lines) {
    Verdict v;
    for (const LayerLine& l : lines)
        if (l.layer >= 0) v.lowest.consider(l.layer, l.agreement);
    for (const LayerLine& l : lines)
        if (l.layer < 0) {
            v.overall = l.agreement.mean_overlap();
            v.chance = l.chance;
            v.kappa = overlap_kappa(l.agreement.mean_overlap(), l.chance);
        }
    const double floor = x.own<DiffArgs>().fail_below;
    v.checked = !std::isnan(floor);
    v.passed = !v.checked || v.lowest.overlap >= floor;
    return v;
}

void layer_json(JsonWriter& w, const LayerDiff& d, double chance, size_t top) {
    write_agreement_json(w, d.agreement);
    w.field("chance_overlap", chance);
    w.field("kappa", overlap_kappa(d.agreement.mean_overlap(), chance));
    w.field("only_a", d.only_a_total()).field("only_b", d.only_b_total());
    for (auto [key, counts] : {std::pair{"only_a_why", &d.only_a}, {"only_b_why", &d.only_b}}) {
        w.key(key).begin_object();
        for (size_t i = 0; i < kUnmatchedReasons; ++i)
            w.field(unmatched_name(static_cast<Unmatched>(i)), (*counts)[i]);
        w.end_object();
    }
    w.key("experts").begin_array();  // those gained or lost at least once
    for (size_t e = 0; e < std::max(d.gained.size(), d.lost.size()); ++e) {
        const uint64_t g = e < d.gained.size() ? d.gained[e] : 0;
        const uint64_t l = e < d.lost.size() ? d.lost[e] : 0;
        if (g == 0 && l == 0) continue;
        w.begin_object().field("expert", static_cast<uint64_t>(e)).field("gained", g);
        w.field("lost", l).field("net", static_cast<int64_t>(g) - static_cast<int64_t>(l));
        w.end_object();
    }
    w.end_array().key("top_flips").begin_array();
    for (const ExpertFlip& f : d.top_flips(top))
        w.begin_object()
            .field("from", f.from)
            .field("to", f.to)
            .field("count", f.count)
            .end_object();
    w.end_array();
}

void verdict_json(JsonWriter& w, const Query& x) {
    const Verdict v = verdict_of(x, layer_lines(x));
    w.key("verdict").begin_object();
    w.field("min_overlap", v.lowest.overlap).field("min_overlap_layer", v.lowest.layer);
    w.field("chance_overlap", v.chance).field("kappa", v.kappa).key("near_chance");
    std::isnan(v.kappa) ? w.null() : w.value(v.kappa < kNearChanceKappa);
    w.key("fail_below");
    v.checked ? w.value(x.own<DiffArgs>().fail_below) : w.null();
    w.key("passed");
    v.checked ? w.value(v.passed) : w.null();
    w.end_object();
}

// The same keys as from FILE arguments where the live sums have them; the per-token,
// position, phase and flip figures are not kept live: null.
void stored_diff_json(JsonWriter& w, const Query& x) {
    const StoredDiff stored = stored_diff_of(x);
    w.key("runs").begin_object();
    for (DiffSide s : {DiffSide::a, DiffSide::b})
        w.key(s == DiffSide::a ? "a" : "b")
            .begin_object()
            .field("name", run_name(x, s))
            .end_object();
    w.end_object().key("layers").begin_array();
    const auto row = [&](const DiffLayerCounts& l) {
        write_agreement_json(w, l.agreement);
        w.field("chance_overlap", NAN).field("kappa", NAN);  // not kept live
        w.field("only_a", l.only_a).field("only_b", l.only_b).field("evicted", l.evicted);
        w.end_object();
    };
    for (const auto& [layer, l] : *stored.layers)
        w.begin_object().field("layer", layer), row(l);
    w.begin_object(), row(stored.all);
    w.end_array();
    for (const char* key : {"tokens", "positions", "phases"})
        w.key(key).null();
    verdict_json(w, x);
}

void diff_json(JsonWriter& w, const Query& x) {
    if (x.args.files.empty()) return stored_diff_json(w, x);
    const RoutingDiff& diff = diff_of(x);
    w.key("runs").begin_object();
    for (DiffSide s : {DiffSide::a, DiffSide::b}) {
        w.key(s == DiffSide::a ? "a" : "b").begin_object();
        w.field("name", run_name(x, s)).field("records", diff.records(s));
        w.field("rejected_lines", rejected_lines(x, s));
        w.field("unplaced", diff.unplaced(s)).end_object();
    }
    w.end_object().key("layers").begin_array();
    for (const auto& [layer, l] : diff.layers()) {
        w.begin_object().field("layer", layer);
        layer_json(w, l, chance_overlap(l), x.q.top);
        w.end_object();
    }
    w.begin_object();
    layer_json(w, diff.all_layers(), diff.chance_overlap_all(), x.q.top);
    w.end_object().end_array();
    const TokenDiffTally& t = diff.tokens();
    w.key("tokens").begin_object().field("aligned", t.tokens);
    w.field("differ_in_any_layer", t.differ_any).field("closed_early", t.closed_early);
    w.key("differing_layers").begin_array();
    for (uint64_t n : t.differing_layers)
        w.value(n);
    w.end_array().end_object().key("positions").begin_array();
    for (int i = 0; i < kPositionBuckets; ++i) {
        w.begin_object().field("bucket", position_bucket_name(i));
        write_agreement_json(w, diff.by_position()[static_cast<size_t>(i)]);
        w.end_object();
    }
    w.end_array().key("phases").begin_array();
    for (const auto& [phase, s] : diff.by_phase()) {
        w.begin_object().field("phase", std::string_view(phase));
        write_agreement_json(w, s);
        w.end_object();
    }
    w.end_array();
    verdict_json(w, x);
}

Table layer_table(const std::vector<LayerLine>& lines, bool csv) {
    // Short headers in the text table: it fits 100 columns.
    Table t(csv ? std::vector<std::string>{"layer", "aligned", "only_a", "only_b", "top1_agreement",
                                           "overlap", "chance_overlap", "exact_agreement",
                                           "jaccard", "weight_mass_overlap"}
                : std::vector<std::string>{"layer", "aligned", "only_a", "only_b", "top1",
                                           "overlap", "chance", "exact", "jaccard", "weight_mass"});
    const auto num = [&](double v) { return csv ? fmt_num::csv(v) : fmt_num::fixed(v, 4); };
    for (const LayerLine& l : lines) {
        const AgreementSums& s = l.agreement;
        t.add({l.layer < 0 ? "all" : std::to_string(l.layer), std::to_string(s.aligned),
               std::to_string(l.only_a), std::to_string(l.only_b), num(s.top1_agreement()),
               num(s.mean_overlap()), num(l.chance), num(s.exact_agreement()),
               num(s.mean_jaccard()), num(s.mean_weight_mass())});
    }
    return t;
}

std::string verdict_text(const Query& x, const std::vector<LayerLine>& lines) {
    const auto& d = x.own<DiffArgs>();
    const Verdict v = verdict_of(x, lines);
    std::string out(kVerdictPrefix);
    if (v.kappa < kNearChanceKappa)  // the headline: no overlap threshold means much then
        out += "agreement near chance (kappa " + fmt_num::fixed(v.kappa, 3) + ": overlap " +
               fmt_num::fixed(v.overall, 4) + ", tokens paired at random " +
               fmt_num::fixed(v.chance, 4) + ")\n" + std::string(kVerdictIndent) +
               "A and B may not be runs of the same requests; ";
    out += "lowest mean overlap " + fmt_num::fixed(v.lowest.overlap, 4) + " (layer " +
           std::to_string(v.lowest.layer) + ")";
    if (v.kappa >= kNearChanceKappa) out += ", kappa " + fmt_num::fixed(v.kappa, 3);
    if (v.checked)  // pass or FAIL last, where a CI log reader looks
        out += v.passed ? ", at least --fail-below " + fmt_num::sig(d.fail_below, 6) + ": pass"
                        : ", below --fail-below " + fmt_num::sig(d.fail_below, 6) + ": FAIL";
    return out + "\n";
}

std::string diff_text(const Query& x) {
    const std::vector<LayerLine> lines = layer_lines(x);  // first: it refuses bad inputs
    // The verdict first (issue 31): the answer before the tables.
    const RoutingDiff* diff_if = x.args.files.empty() ? nullptr : &diff_of(x);
    std::string out = verdict_text(x, lines) + "A: " + run_heading(x, DiffSide::a, diff_if) +
                      "\nB: " + run_heading(x, DiffSide::b, diff_if) + "\n\n" +
                      layer_table(lines, false).render();
    if (x.args.files.empty())
        return out +
               "\nkept live by moescoped --diff: records still waiting for their partner are "
               "in no column\n";
    const RoutingDiff& diff = diff_of(x);
    const TokenDiffTally& t = diff.tokens();
    out += "\ntokens aligned " + fmt_num::integer(t.tokens) + ", differing in at least one layer " +
           fmt_num::integer(t.differ_any) + " (" +
           fmt_num::percent(t.tokens ? double(t.differ_any) / double(t.tokens) : NAN) + ")\n";
    const LayerDiff all = diff.all_layers();
    if (all.only_a_total() + all.only_b_total() > 0) {
        out += "unmatched:";
        for (size_t i = 0; i < kUnmatchedReasons; ++i)
            if (all.only_a[i] + all.only_b[i] > 0)
                out += " " + std::string(unmatched_name(static_cast<Unmatched>(i))) + " " +
                       fmt_num::integer(all.only_a[i]) + " in A, " +
                       fmt_num::integer(all.only_b[i]) + " in B;";
        out.back() = '\n';
    }
    Table pos({"position", "aligned", "top1", "overlap", "exact"});
    for (int i = 0; i < kPositionBuckets; ++i) {
        const AgreementSums& s = diff.by_position()[static_cast<size_t>(i)];
        if (s.aligned)
            pos.add({std::string(position_bucket_name(i)), std::to_string(s.aligned),
                     fmt_num::fixed(s.top1_agreement(), 4), fmt_num::fixed(s.mean_overlap(), 4),
                     fmt_num::fixed(s.exact_agreement(), 4)});
    }
    for (const auto& [phase, s] : diff.by_phase())
        pos.add({"phase " + phase, std::to_string(s.aligned), fmt_num::fixed(s.top1_agreement(), 4),
                 fmt_num::fixed(s.mean_overlap(), 4), fmt_num::fixed(s.exact_agreement(), 4)});
    out += "\n" + pos.render();
    const auto flips = all.top_flips(x.q.top);
    if (!flips.empty()) {
        Table f({"from (A)", "to (B)", "tokens"});
        for (const ExpertFlip& e : flips)
            f.add({std::to_string(e.from), std::to_string(e.to), fmt_num::integer(e.count)});
        out += "\nmost frequent flips, all layers:\n" + f.render();
    }
    return out;
}

constexpr FailMetric kDiffFailOn[] = {
    {"overlap", "mean top-k overlap |A and B| / k of a layer (0..1)"},
    {"top1", "top-1 agreement of a layer (0..1)"},
    {"exact", "exact-set agreement of a layer (0..1)"},
    {"jaccard", "mean Jaccard of a layer (0..1)"},
    {"differ", "share of tokens whose experts differ in at least one layer (all layers)"},
};

std::vector<FailReading> diff_readings(const Query& x) {
    std::vector<FailReading> out;
    for (const LayerLine& l : layer_lines(x)) {
        const AgreementSums& s = l.agreement;
        out.push_back({l.layer, "overlap", s.mean_overlap(), ""});
        out.push_back({l.layer, "top1", s.top1_agreement(), ""});
        out.push_back({l.layer, "exact", s.exact_agreement(), ""});
        out.push_back({l.layer, "jaccard", s.mean_jaccard(), ""});
    }
    if (x.args.files.empty()) return out;  // the per-token tally is not kept live
    const TokenDiffTally& t = diff_of(x).tokens();
    out.push_back({-1, "differ", t.tokens ? double(t.differ_any) / double(t.tokens) : NAN, ""});
    return out;
}

}  // namespace

extern const CommandSpec kDiffCommand = {
    "diff",
    "Routing of two runs token by token: agreement per layer, tokens that differ",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<DiffArgs>();
        flag::token_query(app, a);
        app.add_option("--tag", own.tag_a,
                       "Run A: this tag of the inputs (with --vs; instead of two FILE arguments)");
        app.add_option("--vs", own.tag_b, "Run B: this tag of the inputs (with --tag)");
        app.add_option("--diff-window", own.window,
                       "Records waiting for their partner at most; more are counted as evicted")
            ->check(CLI::Range(size_t{1}, size_t{1} << 32))
            ->capture_default_str();
        // The spelling of the usual gate: --fail-on overlap<X.
        app.add_option_function<double>(
               "--fail-below",
               [&a, fail_below = &own.fail_below](double v) {
                   *fail_below = v;
                   char buf[32];  // shortest round trip: "overlap<0.95", as a user writes it
                   const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
                   a.fail_on.push_back("overlap<" + std::string(buf, end));
               },
               "Exit 4 when the mean overlap of any layer is below this (--fail-on overlap<X)")
            ->check(CLI::Range(0.0, 1.0));
        flag::fail_on(app, a, kDiffFailOn);
        flag::top(app, a, 10, "Flip pairs shown per row");
    },
    kNeedsTracing,
    diff_json,
    [](const Query& x) { return layer_table(layer_lines(x), true).csv(); },
    diff_text,
    nullptr,
    kDiffFailOn,
    diff_readings,
};

}  // namespace moe
