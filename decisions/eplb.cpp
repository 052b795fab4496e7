#include "decisions/eplb.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "analytics/percentile.hpp"

namespace moe::eplb {

namespace {

std::vector<int32_t> inverse(const std::vector<int32_t>& perm) {
    std::vector<int32_t> inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
        inv[static_cast<size_t>(perm[i])] = static_cast<int32_t>(i);
    return inv;
}

std::invalid_argument shape_error(const std::string& what) {
    return std::invalid_argument("placement: " + what);
}

}  // namespace

Packing balanced_packing(std::span<const float> weight, size_t num_packs) {
    const size_t n = weight.size();
    if (num_packs == 0 || n % num_packs != 0)
        throw shape_error(std::to_string(n) + " items do not split evenly into " +
                          std::to_string(num_packs) + " packs");
    const size_t per_pack = n / num_packs;
    Packing out{std::vector<int32_t>(n), std::vector<int32_t>(n, 0)};
    if (per_pack == 1) {  // the published shortcut: item i alone in pack i
        std::iota(out.pack.begin(), out.pack.end(), 0);
        return out;
    }
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return weight[a] > weight[b]; });
    std::vector<float> pack_weight(num_packs, 0.0f);
    std::vector<size_t> pack_items(num_packs, 0);
    for (size_t item : order) {
        size_t best = num_packs;  // the first lightest pack that still has room
        for (size_t p = 0; p < num_packs; ++p)
            if (pack_items[p] < per_pack &&
                (best == num_packs || pack_weight[p] < pack_weight[best]))
                best = p;
        out.pack[item] = static_cast<int32_t>(best);
        out.rank[item] = static_cast<int32_t>(pack_items[best]);
        pack_weight[best] += weight[item];
        ++pack_items[best];
    }
    return out;
}

Replication replicate_experts(std::span<const float> weight, size_t num_phy) {
    const size_t num_log = weight.size();
    if (num_phy < num_log)
        throw shape_error(std::to_string(num_phy) + " slots are fewer than " +
                          std::to_string(num_log) + " experts");
    Replication r{std::vector<int32_t>(num_phy), std::vector<int32_t>(num_phy, 0),
                  std::vector<int32_t>(num_log, 1)};
    std::iota(r.phy2log.begin(), r.phy2log.begin() + static_cast<ptrdiff_t>(num_log), 0);
    for (size_t p = num_log; p < num_phy; ++p) {
        size_t best = 0;  // the first expert with the largest load per replica
        float best_load = weight[0] / static_cast<float>(r.count[0]);
        for (size_t e = 1; e < num_log; ++e) {
            const float l = weight[e] / static_cast<float>(r.count[e]);
            if (l > best_load) best = e, best_load = l;
        }
        r.phy2log[p] = static_cast<int32_t>(best);
        r.rank[p] = r.count[best]++;
    }
    return r;
}

LayerPlan rebalance_hierarchical(std::span<const float> weight, size_t slots, size_t groups,
                                 size_t nodes, size_t gpus) {
    const size_t E = weight.size();
    const size_t group_size = E / groups, groups_per_node = groups / nodes;
    const size_t per_gpu = slots / gpus, log_per_node = E / nodes, phy_per_node = slots / nodes;

    // 1. Groups onto nodes; log2mlog renumbers experts so each node's are consecutive.
    std::vector<float> group_load(groups, 0.0f);
    for (size_t g = 0; g < groups; ++g)
        for (size_t j = 0; j < group_size; ++j)
            group_load[g] += weight[g * group_size + j];
    const Packing gp = balanced_packing(group_load, nodes);
    std::vector<int32_t> log2mlog(E);
    for (size_t g = 0; g < groups; ++g)
        for (size_t j = 0; j < group_size; ++j)
            log2mlog[g * group_size + j] =
                static_cast<int32_t>((static_cast<size_t>(gp.pack[g]) * groups_per_node +
                                      static_cast<size_t>(gp.rank[g])) *
                                         group_size +
                                     j);
    const std::vector<int32_t> mlog2log = inverse(log2mlog);

    LayerPlan plan{std::vector<int32_t>(slots), std::vector<int32_t>(slots), {}};
    std::vector<int32_t> mlog_count(E);
    for (size_t n = 0; n < nodes; ++n) {
        // 2. Replicate within the node.
        std::vector<float> node_load(log_per_node);
        for (size_t i = 0; i < log_per_node; ++i)
            node_load[i] = weight[static_cast<size_t>(mlog2log[n * log_per_node + i])];
        const Replication rep = replicate_experts(node_load, phy_per_node);
        // 3. Pack the node's replicas onto its GPUs by load per replica.
        std::vector<float> phy_load(phy_per_node);
        for (size_t p = 0; p < phy_per_node; ++p) {
            const auto m = static_cast<size_t>(rep.phy2log[p]);
            phy_load[p] = node_load[m] / static_cast<float>(rep.count[m]);
        }
        const Packing pk = balanced_packing(phy_load, gpus / nodes);
        std::vector<int32_t> phy2pphy(phy_per_node);
        for (size_t p = 0; p < phy_per_node; ++p)
            phy2pphy[p] = static_cast<int32_t>(static_cast<size_t>(pk.pack[p]) * per_gpu +
                                               static_cast<size_t>(pk.rank[p]));
        const std::vector<int32_t> pphy2phy = inverse(phy2pphy);
        for (size_t q = 0; q < phy_per_node; ++q) {
            const auto p = static_cast<size_t>(pphy2phy[q]);
            const size_t mlog = static_cast<size_t>(rep.phy2log[p]) + n * log_per_node;
            plan.phy2log[n * phy_per_node + q] = mlog2log[mlog];
            plan.rank[n * phy_per_node + q] = rep.rank[p];
        }
        for (size_t i = 0; i < log_per_node; ++i)
            mlog_count[n * log_per_node + i] = rep.count[i];
    }
    plan.count.resize(E);
    for (size_t e = 0; e < E; ++e)
        plan.count[e] = mlog_count[static_cast<size_t>(log2mlog[e])];
    return plan;
}

void check_shape(const PlanShape& s, size_t experts) {
    const auto n = [](size_t v) { return std::to_string(v); };
    if (experts == 0) throw shape_error("no experts");
    if (s.gpus == 0) throw shape_error("--gpus must be at least 1");
    if (s.nodes == 0 || s.groups == 0) throw shape_error("--nodes and --groups must be at least 1");
    if (s.slots < experts)
        throw shape_error("--slots " + n(s.slots) + " is fewer than the " + n(experts) +
                          " experts");
    if (s.slots % s.gpus != 0)
        throw shape_error("--slots " + n(s.slots) + " is not a multiple of --gpus " + n(s.gpus));
    if (effective_policy(s) != Policy::hierarchical) return;  // one group on one node
    if (s.gpus % s.nodes != 0)
        throw shape_error("--gpus " + n(s.gpus) + " is not a multiple of --nodes " + n(s.nodes));
    if (experts % s.groups != 0)
        throw shape_error(n(experts) + " experts do not split into --groups " + n(s.groups));
}

Policy effective_policy(const PlanShape& s) {
    // One group on one node is what the global policy runs, so it is named that way.
    const bool trivial = s.groups == 1 && s.nodes == 1;
    return s.policy == Policy::hierarchical && s.nodes > 0 && s.groups % s.nodes == 0 && !trivial
               ? Policy::hierarchical
               : Policy::global;
}

LayerPlan rebalance(std::span<const double> load, const PlanShape& s) {
    check_shape(s, load.size());
    const std::vector<float> w(load.begin(), load.end());
    if (effective_policy(s) == Policy::hierarchical)
        return rebalance_hierarchical(w, s.slots, s.groups, s.nodes, s.gpus);
    return rebalance_hierarchical(w, s.slots, 1, 1, s.gpus);
}

std::vector<int32_t> replica_counts(std::span<const int32_t> phy2log, size_t experts) {
    std::vector<int32_t> count(experts, 0);
    for (int32_t e : phy2log) {
        if (e < 0 || static_cast<size_t>(e) >= experts)
            throw shape_error("slot holds expert " + std::to_string(e) + ", outside 0.." +
                              std::to_string(experts - 1));
        ++count[static_cast<size_t>(e)];
    }
    return count;
}

Balance evaluate(std::span<const double> load, std::span<const int32_t> phy2log, size_t gpus) {
    if (gpus == 0 || phy2log.size() % gpus != 0)
        throw shape_error(std::to_string(phy2log.size()) + " slots do not split evenly over " +
                          std::to_string(gpus) + " GPUs");
    const std::vector<int32_t> count = replica_counts(phy2log, load.size());
    for (size_t e = 0; e < load.size(); ++e)
        if (count[e] == 0 && load[e] > 0)
            throw shape_error("expert " + std::to_string(e) + " has load but no slot");
    Balance b;
    b.gpu_load.assign(gpus, 0.0);
    const size_t per_gpu = phy2log.size() / gpus;
    for (size_t p = 0; p < phy2log.size(); ++p) {
        const auto e = static_cast<size_t>(phy2log[p]);
        b.gpu_load[p / per_gpu] += load[e] / count[e];
    }
    const double max = *std::max_element(b.gpu_load.begin(), b.gpu_load.end());
    const double mean =
        std::accumulate(b.gpu_load.begin(), b.gpu_load.end(), 0.0) / static_cast<double>(gpus);
    if (max > 0) {
        b.balancedness = mean / max;
        b.imbalance = max / mean - 1;
    }
    return b;
}

std::vector<int32_t> identity_placement(size_t experts) {
    std::vector<int32_t> p(experts);
    std::iota(p.begin(), p.end(), 0);
    return p;
}

Summary summarize(std::vector<double> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    return {v.front(), percentile_linear(v, 0.5), percentile_linear(v, 0.9),
            std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size())};
}

}  // namespace moe::eplb
