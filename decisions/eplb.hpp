// Expert-parallel placement: DeepSeek's EPLB algorithm (github.com/deepseek-ai/EPLB, eplb.py)
// re-implemented per layer, and the per-GPU balance figures engines report for a placement
// (docs/FIGURES.md "Placement"). Pure functions: a layer's load vector in, a plan out.
//
// The planning arithmetic is float32 like the published code (it converts the load with
// .float()), and every tie breaks the way it does there: a descending stable sort (equal
// loads keep id order), the first maximum (torch.max) and the first lightest pack
// (Python's min), so plans match the reference slot for slot.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moe::eplb {

// balanced_packing: which pack (0..num_packs-1) each item goes to and its rank inside the
// pack; every pack gets exactly n / num_packs items.
struct Packing {
    std::vector<int32_t> pack, rank;
};
Packing balanced_packing(std::span<const float> weight, size_t num_packs);

// replicate_experts: num_phy slots for weight.size() experts, each extra slot given to the
// expert with the largest load per replica. phy2log[p] is slot p's expert, rank[p] its
// replica index, count[e] the replicas of expert e.
struct Replication {
    std::vector<int32_t> phy2log, rank, count;
};
Replication replicate_experts(std::span<const float> weight, size_t num_phy);

enum class Policy { hierarchical, global };

struct PlanShape {
    size_t slots = 0;  // physical expert slots in all (experts + redundant)
    size_t gpus = 0;   // slots / gpus consecutive slots per GPU
    size_t nodes = 1;
    size_t groups = 1;  // expert groups (DeepSeek-V3: 8)
    Policy policy = Policy::hierarchical;
};

// A layer's plan: phy2log lists the slots GPU by GPU (slots / gpus each); count[e] is the
// number of slots holding expert e.
struct LayerPlan {
    std::vector<int32_t> phy2log, rank, count;
};

// rebalance_experts_hierarchical for one layer: groups packed onto nodes, experts replicated
// within each node, replicas packed onto the node's GPUs.
LayerPlan rebalance_hierarchical(std::span<const float> weight, size_t slots, size_t groups,
                                 size_t nodes, size_t gpus);

// rebalance_experts: the hierarchical policy when nodes divide groups, else (and for
// Policy::global) the global one, i.e. hierarchical with one group on one node.
// Throws std::invalid_argument naming the option when the shape does not fit `experts`.
void check_shape(const PlanShape& s, size_t experts);
LayerPlan rebalance(std::span<const double> load, const PlanShape& s);
// The policy rebalance() applies (global when nodes do not divide groups).
Policy effective_policy(const PlanShape& s);

// How a placement fares on a load: gpu_load[g] = sum over g's slots of load / replicas.
struct Balance {
    std::vector<double> gpu_load;
    double balancedness = 1;  // mean / max GPU load (1 when no load)
    double imbalance = 0;     // max / mean - 1
};
// Throws std::invalid_argument when phy2log names an expert out of range, leaves an expert
// with load unplaced, or does not split evenly over `gpus`.
Balance evaluate(std::span<const double> load, std::span<const int32_t> phy2log, size_t gpus);
// The identity placement: E / G consecutive experts per GPU, one slot each (defined only
// when G divides E).
std::vector<int32_t> identity_placement(size_t experts);
// Replica count of every expert in a placement.
std::vector<int32_t> replica_counts(std::span<const int32_t> phy2log, size_t experts);

// Across layers: min, median, 90th percentile (linear interpolation) and mean.
struct Summary {
    double min = 0, p50 = 0, p90 = 0, mean = 0;
};
Summary summarize(std::vector<double> values);

}  // namespace moe::eplb
