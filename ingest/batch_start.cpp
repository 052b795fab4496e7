#include "ingest/batch_start.hpp"

#include <cstring>

#include "parsers/line_parser.hpp"

namespace moe {

namespace {

// Notes what a line held: its first routing record's layer, or a header.
class LayerSink : public RecordSink {
  public:
    int32_t layer = -1;
    bool header = false;
    void clear() {
        layer = -1;
        header = false;
    }

  private:
    void on_routing(const RoutingRecord& r) override {
        if (layer < 0) layer = r.layer;
    }
    void on_gate(const GateRecord&) override {}
    void on_meta(const MetaRecord&) override {}
    void on_counts(const CountRecord&) override {}
    void on_reject(RejectReason, std::string_view) override {}
    void on_skip(SkipKind kind, std::string_view) override { header |= kind == SkipKind::header; }
};

}  // namespace

std::optional<size_t> batch_start(std::string_view window, Format format) {
    LineParser parser(format);
    LayerSink sink;
    int32_t previous = -1;
    for (size_t at = 0; at < window.size();) {
        const void* nl = std::memchr(window.data() + at, '\n', window.size() - at);
        if (!nl) break;
        const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - window.data());
        std::string_view line = window.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        sink.clear();
        parser.parse(line, sink);
        if (sink.header || (sink.layer >= 0 && previous >= 0 && sink.layer != previous)) return at;
        if (sink.layer >= 0) previous = sink.layer;
        at = end + 1;
    }
    return std::nullopt;
}

}  // namespace moe
