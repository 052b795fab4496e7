// Records piped into moescoped's standard input (`engine | moescoped --db x --stdin`).
// A pipe or terminal is read asynchronously; a regular file (`< file`) in chunks, yielding
// to other sources between chunks. At end of input the source reports it is done.
#pragma once

#include <functional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "ingest/stream_ingest.hpp"
#include "daemon/source.hpp"

namespace moe {

class StdinSource : public Source {
  public:
    StdinSource(boost::asio::io_context& io, SourceStats restored, Aggregates& agg, Format format,
                size_t max_line, std::function<void()> on_end);

    void start() override;
    void stop() override;
    SourceStats& stats() override { return stats_; }

  private:
    void read_async();
    void read_blocking_chunk();
    void end();

    boost::asio::io_context& io_;
    boost::asio::posix::stream_descriptor in_;
    SourceStats stats_;
    StreamIngest ingest_;
    std::function<void()> on_end_;
    std::vector<char> buf_;
    bool stopped_ = false;
    bool ended_ = false;
};

}  // namespace moe
