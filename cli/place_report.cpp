// `moescope place`: an expert-parallel placement plan (DeepSeek's EPLB, decisions/eplb.hpp)
// from the recorded per-layer load, its per-GPU balance before and after, an existing
// placement evaluated on the same load (--current), and the plan exported in the formats
// SGLang and TensorRT-LLM read (docs/DECISIONS.md "Placing experts"; figures: docs/FIGURES.md
// "Placement").
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/table.hpp"
#include "decisions/coverage.hpp"
#include "decisions/eplb.hpp"
#include "decisions/fanout.hpp"
#include "decisions/placement_map.hpp"

namespace moe {

extern const CommandSpec kPlaceCommand;  // defined at the end: its action renders it

namespace {

// The place command's own options: the cluster shape and the plan's inputs and exports.
struct PlaceArgs final : CommandOptions {
    size_t gpus = 0, slots = 0, nodes = 1, groups = 1;  // slots 0: one per expert
    std::string policy = "hierarchical", by = "hits";
    bool by_tag = false;
    std::string current, export_sglang, export_sglang_count, export_trtllm;
};

struct LayerResult {
    int32_t layer = 0;
    std::vector<double> load;  // per logical expert: hits or weight mass
    eplb::LayerPlan plan;
    std::optional<eplb::Balance> before;  // none when G does not divide E
    eplb::Balance after;
    std::optional<eplb::Balance> current;
    // All-to-all fan-out (FILE arguments only: needs each token's experts).
    std::optional<Fanout> fan_before, fan_after, fan_current;
};

struct PlaceResult {
    std::string tag, by;
    eplb::PlanShape shape;
    size_t experts = 0;
    std::vector<LayerResult> layers;
    bool has_current = false;
    bool has_fanout = false;
    bool by_tag_asked = false;
    // --by-tag: the same plan (and the identity and --current placements) on each tag's load.
    std::vector<std::pair<std::string, std::vector<LayerResult>>> by_tag;
};

// ---------------------------------------------------------------- --current FILE

[[noreturn]] void bad_current(const std::string& path, const std::string& why) {
    throw std::invalid_argument("--current " + path + ": " + why);
}

// --current FILE: a PlacementMap read from the file, every failure naming it.
class CurrentMap {
  public:
    explicit CurrentMap(const std::string& path) : path_(path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("cannot read --current " + path);
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        try {
            map_ = PlacementMap::parse(text);
        } catch (const std::invalid_argument& e) {
            bad_current(path, e.what());
        }
    }

    const std::vector<int32_t>& row(int32_t layer) const {
        if (const auto* r = map_.row(layer)) return *r;
        bad_current(path_, "no physical -> logical map for layer " + std::to_string(layer));
    }

  private:
    std::string path_;
    PlacementMap map_;
};

// ---------------------------------------------------------------- the plan

eplb::PlanShape shape_of(const PlaceArgs& p, size_t experts) {
    eplb::PlanShape s{p.slots ? p.slots : experts, p.gpus, p.nodes, p.groups,
                      p.policy == "global" ? eplb::Policy::global : eplb::Policy::hierarchical};
    eplb::check_shape(s, experts);
    return s;
}

std::vector<double> layer_load(const LayerStats& l, int32_t id, bool mass, size_t E) {
    std::vector<double> load(E, 0.0);
    if (mass && l.weighted_tokens == 0) throw_no_mass(id);
    for (size_t e = 0; e < E; ++e)
        load[e] = mass ? (e < l.weight_mass.size() ? l.weight_mass[e] : 0.0)
                       : static_cast<double>(e < l.hits.size() ? l.hits[e] : 0);
    return load;
}

PlaceResult compute(const Query& x) {
    const auto& p = x.own<PlaceArgs>();
    const TagStats& tag = x.tag();
    PlaceResult r{tag.name, p.by, {}, x.agg.num_experts(), {}, !p.current.empty()};
    const bool mass = p.by == "mass";
    if (mass && x.q.windowed)
        throw std::invalid_argument(
            "--by mass is kept as a total; --since/--until apply to --by hits only");
    r.shape = shape_of(p, r.experts);
    const std::vector<int32_t> ids = x.q.layer ? std::vector<int32_t>{*x.q.layer} : tag.layer_ids();
    if (ids.empty()) throw NoDataError("no records in tag '" + tag.name + "'");
    std::optional<CurrentMap> current;
    if (r.has_current) current.emplace(p.current);
    const std::vector<int32_t> identity = eplb::identity_placement(r.experts);
    // The balances of the plan, the identity and --current placements on one load.
    auto evaluate = [&](LayerResult& l) {
        if (r.experts % r.shape.gpus == 0)
            l.before = eplb::evaluate(l.load, identity, r.shape.gpus);
        l.after = eplb::evaluate(l.load, l.plan.phy2log, r.shape.gpus);
        if (current) {
            try {
                l.current = eplb::evaluate(l.load, current->row(l.layer), r.shape.gpus);
            } catch (const std::invalid_argument& e) {
                bad_current(p.current, "layer " + std::to_string(l.layer) + ": " + e.what());
            }
        }
    };
    for (int32_t id : ids) {
        LayerResult l;
        l.layer = id;
        l.load = layer_load(*tag.layer(id), id, mass, r.experts);
        l.plan = eplb::rebalance(l.load, r.shape);
        evaluate(l);
        r.layers.push_back(std::move(l));
    }
    if (x.sequence) {
        r.has_fanout = true;
        using Member = std::optional<Fanout> LayerResult::*;
        auto fan = [&](Member m, auto&& placement) {
            std::map<int32_t, GpuIndex> index;
            for (const auto& l : r.layers)
                if (const std::vector<int32_t>* pl = placement(l))
                    index.emplace(l.layer, GpuIndex(*pl, r.shape.gpus, r.experts));
            const auto f = fanout(*x.sequence, x.tag_id(), index);
            for (auto& l : r.layers)
                if (index.count(l.layer)) l.*m = f.count(l.layer) ? f.at(l.layer) : Fanout{};
        };
        fan(&LayerResult::fan_before, [&](const LayerResult&) {
            return r.experts % r.shape.gpus == 0 ? &identity : nullptr;
        });
        fan(&LayerResult::fan_after, [&](const LayerResult& l) { return &l.plan.phy2log; });
        if (current)
            fan(&LayerResult::fan_current,
                [&](const LayerResult& l) { return &current->row(l.layer); });
    }
    r.by_tag_asked = p.by_tag;
    if (p.by_tag)
        for (TagId t = 1; t < x.agg.tag_count(); ++t) {  // 0 is "all"
            const TagStats& ts = x.agg.tag(t);
            std::vector<LayerResult> rows;
            for (const auto& planned : r.layers) {
                const LayerStats* ls = ts.layer(planned.layer);
                if (!ls || ls->tokens == 0) continue;
                if (mass && ls->weighted_tokens == 0) continue;
                LayerResult l;
                l.layer = planned.layer;
                l.load = layer_load(*ls, l.layer, mass, r.experts);
                l.plan = planned.plan;
                evaluate(l);
                rows.push_back(std::move(l));
            }
            if (!rows.empty()) r.by_tag.emplace_back(ts.name, std::move(rows));
        }
    return r;
}

// The figures summarised across layers, in output order; NaN (null, "-") when undefined.
struct Figure {
    const char* key;
    double (*get)(const LayerResult&);
    bool current;  // only with --current
    bool fanout;   // only on FILE arguments (null on a database)
};
double mean_gpus(const std::optional<Fanout>& f) {
    return f ? f->mean_gpus() : NAN;
}
double excess(const std::optional<Fanout>& f) {
    return f ? f->excess_share() : NAN;
}
const Figure kFigures[] = {
    {"balancedness_before",
     [](const LayerResult& l) { return l.before ? l.before->balancedness : NAN; }, false, false},
    {"balancedness_after", [](const LayerResult& l) { return l.after.balancedness; }, false, false},
    {"balancedness_current", [](const LayerResult& l) { return l.current->balancedness; }, true,
     false},
    {"imbalance_before", [](const LayerResult& l) { return l.before ? l.before->imbalance : NAN; },
     false, false},
    {"imbalance_after", [](const LayerResult& l) { return l.after.imbalance; }, false, false},
    {"imbalance_current", [](const LayerResult& l) { return l.current->imbalance; }, true, false},
    {"fanout_gpus_before", [](const LayerResult& l) { return mean_gpus(l.fan_before); }, false,
     true},
    {"fanout_gpus_after", [](const LayerResult& l) { return mean_gpus(l.fan_after); }, false, true},
    {"fanout_gpus_current", [](const LayerResult& l) { return mean_gpus(l.fan_current); }, true,
     true},
    {"fanout_excess_before", [](const LayerResult& l) { return excess(l.fan_before); }, false,
     true},
    {"fanout_excess_after", [](const LayerResult& l) { return excess(l.fan_after); }, false, true},
    {"fanout_excess_current", [](const LayerResult& l) { return excess(l.fan_current); }, true,
     true},
};
// Whether a figure is shown for this result (JSON always has the fan-out keys: null on a
// database).
bool shown(const Figure& f, const PlaceResult& r, bool json) {
    return (!f.current || r.has_current) && (!f.fanout || r.has_fanout || json);
}

const Figure& figure(std::string_view key) {
    for (const Figure& f : kFigures)
        if (key == f.key) return f;
    throw std::logic_error("no placement figure " + std::string(key));
}

eplb::Summary summary_of(const std::vector<LayerResult>& layers, const Figure& f) {
    std::vector<double> v;
    for (const auto& l : layers) {
        v.push_back(f.get(l));
        if (std::isnan(v.back())) return {NAN, NAN, NAN, NAN};
    }
    return eplb::summarize(std::move(v));
}

const char* policy_name(const eplb::PlanShape& s) {
    return eplb::effective_policy(s) == eplb::Policy::hierarchical ? "hierarchical" : "global";
}

// ---------------------------------------------------------------- output

template <class T>
void array_of(JsonWriter& w, const std::vector<T>& v) {
    w.begin_array();
    for (T e : v)
        w.value(e);
    w.end_array();
}

void write_json(JsonWriter& w, const PlaceResult& r) {
    w.field("tag", std::string_view(r.tag)).field("by", std::string_view(r.by));
    w.field("policy", policy_name(r.shape)).field("experts", r.experts);
    w.field("gpus", r.shape.gpus).field("slots", r.shape.slots);
    w.field("nodes", r.shape.nodes).field("groups", r.shape.groups);
    w.key("layers").begin_array();
    for (const auto& l : r.layers) {
        w.begin_object().field("layer", l.layer);
        w.key("phy2log");
        array_of(w, l.plan.phy2log);
        w.key("replicas");
        array_of(w, l.plan.count);
        w.key("gpu_load");
        array_of(w, l.after.gpu_load);
        w.key("gpu_load_before");
        if (l.before)
            array_of(w, l.before->gpu_load);
        else
            w.null();
        for (const Figure& f : kFigures)
            if (shown(f, r, true)) w.field(f.key, f.get(l));
        w.end_object();
    }
    w.end_array();
    auto summary = [&](const std::vector<LayerResult>& layers) {
        w.begin_object();
        for (const Figure& f : kFigures) {
            if (!shown(f, r, true) || (f.fanout && &layers != &r.layers)) continue;
            if (f.fanout && !r.has_fanout) {
                w.key(f.key).null();  // a database keeps no token sets
                continue;
            }
            const eplb::Summary s = summary_of(layers, f);
            w.key(f.key).begin_object().field("min", s.min).field("p50", s.p50);
            w.field("p90", s.p90).field("mean", s.mean).end_object();
        }
        w.end_object();
    };
    w.key("summary");
    summary(r.layers);
    if (!r.by_tag.empty() || r.by_tag_asked) {
        w.key("by_tag").begin_array();
        for (const auto& [tag, layers] : r.by_tag) {
            w.begin_object().field("tag", std::string_view(tag)).field("layers", layers.size());
            w.key("summary");
            summary(layers);
            w.end_object();
        }
        w.end_array();
    }
}

// The plan in long form: one row per slot.
std::string plan_csv(const PlaceResult& r) {
    Table t({"tag", "layer", "gpu", "slot", "expert", "replicas", "slot_load", "gpu_load"});
    const size_t per_gpu = r.shape.slots / r.shape.gpus;
    for (const auto& l : r.layers)
        for (size_t s = 0; s < l.plan.phy2log.size(); ++s) {
            const auto e = static_cast<size_t>(l.plan.phy2log[s]);
            t.add({r.tag, std::to_string(l.layer), std::to_string(s / per_gpu), std::to_string(s),
                   std::to_string(e), std::to_string(l.plan.count[e]),
                   fmt_num::sig(l.load[e] / l.plan.count[e], 10),
                   fmt_num::sig(l.after.gpu_load[s / per_gpu], 10)});
        }
    return t.csv();
}

std::string gpu_table(const PlaceResult& r, const LayerResult& l) {
    Table t({"gpu", "load_before", "load_after", "experts (slots)"});
    const auto before = [&](size_t g) { return l.before ? l.before->gpu_load[g] : NAN; };
    const size_t per_gpu = r.shape.slots / r.shape.gpus;
    for (size_t g = 0; g < r.shape.gpus; ++g) {
        std::string experts;
        for (size_t s = g * per_gpu; s < (g + 1) * per_gpu; ++s)
            experts += (experts.empty() ? "" : " ") + std::to_string(l.plan.phy2log[s]);
        t.add({std::to_string(g), fmt_num::sig(before(g), 6), fmt_num::sig(l.after.gpu_load[g], 6),
               experts});
    }
    return t.render("  ");
}

// --by-tag: the plan made on --tag, applied to each tag's own load.
std::string by_tag_text(const PlaceResult& r) {
    if (r.by_tag.empty()) return "By tag: no tags besides 'all'.\n";
    std::vector<std::string> h = {"tag",           "layers",        "bal_before p50",
                                  "bal_after p50", "bal_after min", "imb_after mean"};
    if (r.has_current) h.insert(h.end(), {"bal_current p50"});
    Table t(h);
    for (const auto& [tag, layers] : r.by_tag) {
        std::vector<std::string> row = {
            tag,
            std::to_string(layers.size()),
            fmt_num::fixed(summary_of(layers, figure("balancedness_before")).p50, 4),
            fmt_num::fixed(summary_of(layers, figure("balancedness_after")).p50, 4),
            fmt_num::fixed(summary_of(layers, figure("balancedness_after")).min, 4),
            fmt_num::fixed(summary_of(layers, figure("imbalance_after")).mean, 4)};
        if (r.has_current)
            row.push_back(
                fmt_num::fixed(summary_of(layers, figure("balancedness_current")).p50, 4));
        t.add(row);
    }
    return "The plan (made on tag '" + r.tag + "') on each tag's load:\n" + t.render("  ");
}

std::string text_of(const PlaceResult& r) {
    std::string s = "EPLB plan (" + std::string(policy_name(r.shape)) + ") for tag '" + r.tag +
                    "' by " + r.by + ": " + std::to_string(r.experts) + " experts on " +
                    std::to_string(r.shape.slots) + " slots, " + std::to_string(r.shape.gpus) +
                    " GPUs, " + std::to_string(r.shape.nodes) + " node(s), " +
                    std::to_string(r.shape.groups) + " group(s)\n";
    std::vector<std::string> h = {"layer", "bal_before", "bal_after", "imb_before", "imb_after"};
    if (r.has_current) h.insert(h.end(), {"bal_current", "imb_current"});
    h.insert(h.end(), {"replicated", "max_replicas"});
    Table t(h);
    for (const auto& l : r.layers) {
        int32_t replicated = 0, most = 0;
        for (int32_t c : l.plan.count) {
            replicated += c > 1;
            most = std::max(most, c);
        }
        std::vector<std::string> row = {std::to_string(l.layer)};
        for (const char* key :
             {"balancedness_before", "balancedness_after", "imbalance_before", "imbalance_after"})
            row.push_back(fmt_num::fixed(figure(key).get(l), 4));
        if (l.current)
            row.insert(row.end(), {fmt_num::fixed(l.current->balancedness, 4),
                                   fmt_num::fixed(l.current->imbalance, 4)});
        row.insert(row.end(), {std::to_string(replicated), std::to_string(most)});
        t.add(row);
    }
    s += t.render("  ") +
         "\nAcross layers (balancedness = mean/max GPU load, imbalance = "
         "max/mean - 1):\n";
    Table sum({"figure", "min", "p50", "p90", "mean"});
    for (const Figure& f : kFigures) {
        if (!shown(f, r, false)) continue;
        const eplb::Summary m = summary_of(r.layers, f);
        sum.add({f.key, fmt_num::fixed(m.min, 4), fmt_num::fixed(m.p50, 4),
                 fmt_num::fixed(m.p90, 4), fmt_num::fixed(m.mean, 4)});
    }
    s += sum.render("  ");
    if (r.has_fanout)
        s += wrap("  ",
                  "(fanout_gpus: GPUs a token's top-k visits at least, mean; fanout_excess: "
                  "share of tokens visiting more GPUs than ceil(k / slots per GPU))",
                  100, "   ");
    if (r.by_tag_asked) s += "\n" + by_tag_text(r);
    if (r.layers.size() == 1)
        s += "\nLayer " + std::to_string(r.layers[0].layer) + " per GPU:\n" +
             gpu_table(r, r.layers[0]);
    return s;
}

// ---------------------------------------------------------------- exports

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path);
}

// SGLang rows are indexed by layer id from 0; layers without a plan keep SGLang's trivial
// placement (slot i holds expert i mod E) and a zero count.
int32_t last_layer(const PlaceResult& r) {
    return r.layers.back().layer;
}

const LayerResult* planned(const PlaceResult& r, int32_t id) {
    for (const auto& l : r.layers)
        if (l.layer == id) return &l;
    return nullptr;
}

std::string sglang_map(const PlaceResult& r) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("physical_to_logical_map").begin_array();
    for (int32_t id = 0; id <= last_layer(r); ++id) {
        if (const LayerResult* l = planned(r, id)) {
            array_of(w, l->plan.phy2log);
            continue;
        }
        w.begin_array();
        for (size_t s = 0; s < r.shape.slots; ++s)
            w.value(static_cast<uint64_t>(s % r.experts));
        w.end_array();
    }
    w.end_array().end_object();
    return out + "\n";
}

std::string sglang_count(const PlaceResult& r) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("logical_count").begin_array();
    for (int32_t id = 0; id <= last_layer(r); ++id) {
        w.begin_array();
        const LayerResult* l = planned(r, id);
        for (size_t e = 0; e < r.experts; ++e)
            w.value(l ? l->load[e] : 0.0);
        w.end_array();
    }
    w.end_array().end_object();
    return out + "\n";
}

// TensorRT-LLM's MoeLoadBalancerConfig: exactly these three keys (it rejects others).
std::string trtllm_yaml(const PlaceResult& r) {
    std::string s = "num_slots: " + std::to_string(r.shape.slots) +
                    "\nlayer_updates_per_iter: 0\ninitial_global_assignments:\n";
    for (const auto& l : r.layers) {
        s += "  " + std::to_string(l.layer) + ": [";
        for (size_t i = 0; i < l.plan.phy2log.size(); ++i)
            s += (i ? ", " : "") + std::to_string(l.plan.phy2log[i]);
        s += "]\n";
    }
    return s;
}

int place_action(const Query& x) {
    const PlaceResult r = compute(x);
    const auto& p = x.own<PlaceArgs>();
    if (!p.export_sglang.empty()) write_file(p.export_sglang, sglang_map(r));
    if (!p.export_sglang_count.empty()) write_file(p.export_sglang_count, sglang_count(r));
    if (!p.export_trtllm.empty()) write_file(p.export_trtllm, trtllm_yaml(r));
    return print(kPlaceCommand, x);  // the plan, as any command prints it
}

void place_options(CLI::App& app, CommandArgs& a) {
    auto& p = a.make_own<PlaceArgs>();
    flag::query(app, a);
    flag::layer(app, a, "Plan this layer only, and show its GPUs (default: every layer)");
    app.add_option("--gpus", p.gpus, "GPUs (expert-parallel ranks)")
        ->required()
        ->check(CLI::Range(size_t{1}, size_t{1} << 16))
        ->group("Cluster");
    app.add_option("--slots", p.slots,
                   "Physical expert slots in all, experts + redundant (default: one per "
                   "expert); a multiple of --gpus")
        ->check(CLI::Range(size_t{1}, size_t{1} << 20))
        ->group("Cluster");
    app.add_option("--nodes", p.nodes, "Server nodes (GPUs split evenly among them)")
        ->check(CLI::Range(size_t{1}, size_t{1} << 16))
        ->capture_default_str()
        ->group("Cluster");
    app.add_option("--groups", p.groups, "Expert groups of the model (DeepSeek-V3: 8)")
        ->check(CLI::Range(size_t{1}, size_t{1} << 16))
        ->capture_default_str()
        ->group("Cluster");
    app.add_option("--policy", p.policy,
                   "EPLB policy: hierarchical (falls back to global when --nodes does not "
                   "divide --groups) or global")
        ->check(CLI::IsMember({"hierarchical", "global"}))
        ->capture_default_str()
        ->group("Cluster");
    flag::load_basis(app, p.by, "Load per expert: hits or (routing) weight mass");
    app.add_flag("--by-tag", p.by_tag,
                 "Also show the plan's balance on each tag's own load (a plan made on one "
                 "traffic mix applied to another)");
    app.add_option("--current", p.current,
                   "Also evaluate this placement (JSON physical -> logical map) on the load");
    app.add_option("--export-sglang", p.export_sglang,
                   "Write the plan as SGLang --init-expert-location JSON "
                   "(physical_to_logical_map)")
        ->group("Export");
    app.add_option("--export-sglang-count", p.export_sglang_count,
                   "Write the load as SGLang --init-expert-location JSON (logical_count: "
                   "SGLang runs EPLB itself)")
        ->group("Export");
    app.add_option("--export-trtllm", p.export_trtllm,
                   "Write the plan as TensorRT-LLM MoE load balancer YAML")
        ->group("Export");
}

}  // namespace

extern const CommandSpec kPlaceCommand = {
    "place",
    "Expert-parallel placement (DeepSeek EPLB) and per-GPU balance before and after",
    place_options,
    kNeedsLayer | kNeedsSequence | kWarnsQuality,
    [](JsonWriter& w, const Query& x) { write_json(w, compute(x)); },
    [](const Query& x) { return plan_csv(compute(x)); },
    [](const Query& x) { return text_of(compute(x)); },
    place_action,
};

}  // namespace moe
