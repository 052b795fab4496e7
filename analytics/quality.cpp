#include "analytics/quality.hpp"

namespace moe {

namespace {

// One line per check. Definitions: docs/FIGURES.md "Data quality".
constexpr QualityCheck kChecks[] = {
    {"identical_routing_run", "identical runs",
     ">= 256 consecutive records of one layer with the same ids and weights: a replay such as "
     "vLLM's warm-up and CUDA-graph capture passes, not traffic",
     "records 2.. of each such run", Suspect::identical_run},
    {"strided_view", "strided-view defect",
     "the source's first checked multi-token batches list every expert exactly once in their "
     "first E/k rows: the patched llama-server wrote rows after the first from the wrong view",
     "every row after the first of each multi-token batch of that stream", Suspect::strided_view},
    {"short_last_layer", "short last layer",
     "the last layer has under half the median layer's tokens (llama-server logs it only for "
     "tokens whose logits are needed): its figures are not comparable",
     "", std::nullopt},
    {"count_only", "count-only data",
     "engine totals without tokens: per-token figures do not exist and selections are not "
     "independent draws",
     "", std::nullopt},
    {"truncated_input", "truncated input",
     "a compressed input ends inside compressed data: only the records before the cut exist", "",
     std::nullopt},
    {"rejects", "rejected lines", "lines that are not valid records (moescope sources)", "",
     std::nullopt},
};

}  // namespace

std::span<const QualityCheck> quality_checks() {
    return kChecks;
}

}  // namespace moe
