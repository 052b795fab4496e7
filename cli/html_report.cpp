#include "cli/html_report.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "cli/command.hpp"
#include "report_assets.hpp"  // generated from cli/assets/ (CMakeLists.txt)

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
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << page;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

extern const CommandSpec kReportCommand = {
    "report",
    "Write a self-contained HTML report (of the database, or of FILE arguments)",
    [](CLI::App& app, CommandArgs& a) {
        app.add_option("--html", a.html, "Output file")->required();
        flag::tag(app, a);
        flag::window(app, a);
        flag::files(app, a);
        app.add_option("--cooc-layer", a.cooc_layer,
                       "Layer of the co-occurrence heatmap (default: the least balanced)")
            ->check(CLI::Range(0, kMaxLayer));
    },
    kNeedsTimeline,
    nullptr,
    nullptr,
    nullptr,
    [](const Query& x) {
        HtmlReportOptions ro;
        ro.cooc_layer = x.args.cooc_layer;
        write_html_report(x.args.html, x.agg, x.sources, x.q, ro);
        std::printf("wrote %s\n", x.args.html.c_str());
        return 0;
    },
};

}  // namespace moe
