// A daemon source: something that feeds bytes into the aggregates and reports its health.
#pragma once

#include "analytics/source_stats.hpp"

namespace moe {

class Source {
  public:
    virtual ~Source() = default;
    virtual void start() = 0;
    virtual void stop() = 0;
    // SIGHUP: reopen files (no-op for sockets).
    virtual void reopen() {}
    virtual SourceStats& stats() = 0;
    // Called before every save: put resumable stream state into stats() (files only).
    virtual void checkpoint() {}
};

}  // namespace moe
