// moescope: query a moescoped database, or analyze log files directly. The commands are
// declared in cli/command_registry.cpp; cli/command_runner.cpp turns them into the CLI.
#include "cli/command_runner.hpp"

int main(int argc, char** argv) {
    return moe::run_cli(argc, argv);
}
