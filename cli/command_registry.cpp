// Every command of `moescope`, one line each, in --help order. A command is one file: its
// renderers, its own options (CommandOptions) and its CommandSpec (cli/command.hpp); listing
// it here is all that makes it part of the CLI (docs/ARCHITECTURE.md "Adding a command").
#include "cli/command.hpp"

#define MOESCOPE_COMMANDS(X) \
    X(kAnalyzeCommand)       \
    X(kSummaryCommand)       \
    X(kMatrixCommand)        \
    X(kLayersCommand)        \
    X(kExpertsCommand)       \
    X(kGatesCommand)         \
    X(kCoocCommand)          \
    X(kCorrCommand)          \
    X(kCompareCommand)       \
    X(kDriftCommand)         \
    X(kKdeCommand)           \
    X(kCoverageCommand)      \
    X(kPruneCommand)         \
    X(kCacheCommand)         \
    X(kDiffCommand)          \
    X(kRequestsCommand)      \
    X(kPositionsCommand)     \
    X(kAffinityCommand)      \
    X(kLogitsCommand)        \
    X(kTimelineCommand)      \
    X(kPlaceCommand)         \
    X(kReportCommand)        \
    X(kWeightsCommand)       \
    X(kMergeCommand)         \
    X(kImportCommand)        \
    X(kTagsCommand)          \
    X(kFormatsCommand)       \
    X(kSourcesCommand)

namespace moe {

#define MOESCOPE_DECLARE(name) extern const CommandSpec name;
MOESCOPE_COMMANDS(MOESCOPE_DECLARE)
#undef MOESCOPE_DECLARE

const std::vector<const CommandSpec*>& command_registry() {
#define MOESCOPE_ENTRY(name) &name,
    static const std::vector<const CommandSpec*> all = {MOESCOPE_COMMANDS(MOESCOPE_ENTRY)};
#undef MOESCOPE_ENTRY
    return all;
}

}  // namespace moe
