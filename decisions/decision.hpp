// decisions/: pure functions from aggregates (and, for cache simulation, a recorded
// sequence) to plans and figures: coverage, pruning, cache simulation, expert placement,
// drift. No I/O; cli/ renders them and the daemon exposes them (docs/ARCHITECTURE.md).
#pragma once
