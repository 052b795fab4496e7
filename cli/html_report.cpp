#include "cli/html_report.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/command_runner.hpp"
#include "cli/weights_report.hpp"
#include "models/unique_fd.hpp"
#include "report_assets.hpp"  // generated from cli/assets/ (CMakeLists.txt)
#include "tracing/routing_diff.hpp"

namespace moe {

namespace {

// Replaces the one `marker` in `page` with `text`.
void fill(std::string& page, std::string_view marker, std::string_view text) {
    const auto at = page.find(marker);
    if (at != std::string::npos) page.replace(at, marker.size(), text);
}

}  // namespace

std::string html_report(const Aggregates& agg, const std::vector<SourceStats>& sources,
                        const QueryOptions& q, const HtmlReportOptions& o) {
    std::string data = html_report_data(agg, sources, q, o);
    // Inside <script>, "</" could end the element early: JSON allows "<" as \u003c.
    std::string safe;
    safe.reserve(data.size());
    for (char c : data) {
        if (c == '<')
            safe += "\\u003c";
        else
            safe += c;
    }
    // The page and its script are files in cli/assets/, embedded at build time: static markup
    // and styles plus a small renderer that draws SVG from the embedded JSON (no libraries,
    // no network). Every heatmap cell carries an SVG <title>, the browser's hover tooltip.
    std::string page(assets::kReportHtml);
    fill(page, "/*SCRIPT*/", assets::kReportJs);
    fill(page, "/*DATA*/", safe);
    return page;
}

void write_html_report(const std::string& path, const Aggregates& agg,
                       const std::vector<SourceStats>& sources, const QueryOptions& q,
                       const HtmlReportOptions& o) {
    const std::string page = html_report(agg, sources, q, o);
    // Written to a new file beside `path`, then renamed over it: a symlink planted at `path`
    // is replaced, never followed, and a reader never sees half a report.
    const auto slash = path.rfind('/');
    std::string tmp = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) +
                      ".moescope-report-XXXXXX";
    UniqueFd fd(::mkstemp(tmp.data()));
    if (!fd.valid()) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    size_t done = 0;
    while (done < page.size()) {
        const ssize_t n = ::write(fd.get(), page.data() + done, page.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    const int saved = errno;
    // mkstemp creates 0600; a report is as readable as any file the user writes.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    const bool ok = done == page.size() && ::fchmod(fd.get(), 0666 & ~mask) == 0;
    fd.reset();  // closed before the rename makes it the report
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = ok ? errno : saved;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
    }
}

namespace {
// The report command's own options, and with two FILE arguments their routing diff (the
// "Routing diff" section): the records of A, then B, fed to a RoutingDiff as `diff A B`
// feeds them (cli/diff_report.cpp), so the section's figures are the command's.
struct ReportArgs final : CommandOptions {
    std::string html;         // output file
    int32_t cooc_layer = -1;  // co-occurrence layer
    WeightsArgs weights;      // --model: its weights section
    const CommandArgs* args = nullptr;
    std::unique_ptr<RoutingDiff> diff;
    bool a_read = false;  // A is read: B's records need not wait for more of A

    bool observes() const override { return args && args->files.size() == 2; }
    void observe(const Aggregates&, size_t input, TagId, const RoutingRecord& r) override {
        if (!diff) diff = std::make_unique<RoutingDiff>();
        if (input == 1 && !a_read) diff->end_of(DiffSide::a), a_read = true;
        diff->add(input == 0 ? DiffSide::a : DiffSide::b, r);
    }
    void inputs_done() override {
        if (diff) diff->finish();
    }
};
}  // namespace

extern const CommandSpec kReportCommand = {
    "report",
    "Write a self-contained HTML report (of the database, or of FILE arguments; of two, with "
    "their routing diff)",
    [](CLI::App& app, CommandArgs& a) {
        auto& own = a.make_own<ReportArgs>();
        own.args = &a;
        app.add_option("--html", own.html, "Output file")->required();
        flag::tag(app, a);
        flag::window(app, a);
        flag::files(app, a);
        app.add_option("--cooc-layer", own.cooc_layer,
                       "Layer of the co-occurrence heatmap (default: the least balanced)")
            ->check(CLI::Range(0, kMaxLayer));
        app.add_option("--model", own.weights.model,
                       "Add router and expert weight similarity of this GGUF or safetensors "
                       "model (as `weights` computes it)")
            ->check(CLI::ExistingPath);
    },
    kNeedsTimeline,
    nullptr,
    nullptr,
    nullptr,
    [](const Query& x) {
        const auto& own = x.own<ReportArgs>();
        HtmlReportOptions ro;
        ro.cooc_layer = own.cooc_layer;
        ro.keep_suspect = x.args.keep_suspect();
        if (ro.cooc_layer >= 0) {
            const TagStats& t = x.tag();
            const LayerStats* l = t.layer(ro.cooc_layer);
            if (!l || l->tokens == 0) {
                const auto ids = t.layer_ids();
                throw NoDataError("--cooc-layer " + std::to_string(ro.cooc_layer) +
                                  ": no records for that layer in tag '" + t.name + "'" +
                                  (ids.empty() ? std::string(" (no routing records at all)")
                                               : " (layers " + std::to_string(ids.front()) +
                                                     " to " + std::to_string(ids.back()) + ")"));
            }
        }
        std::optional<WeightsResult> weights;
        if (!own.weights.model.empty()) weights = analyse_weights(own.weights, x.args);
        ro.weights = weights ? &*weights : nullptr;
        if (own.diff && own.diff->records(DiffSide::a) && own.diff->records(DiffSide::b)) {
            ro.diff = own.diff.get();
            ro.diff_a = x.args.files[0], ro.diff_b = x.args.files[1];
        }
        write_html_report(own.html, x.agg, x.sources, x.q, ro);
        std::printf("wrote %s\n", own.html.c_str());
        return 0;
    },
};

}  // namespace moe
