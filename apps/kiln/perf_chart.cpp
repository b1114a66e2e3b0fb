#include "perf_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kiln::cli::perf {
namespace {

constexpr double kWidth = 640, kHeight = 400;
constexpr double kLeft = 80, kRight = 24, kTop = 40, kBottom = 56;
constexpr int kTicks = 5;

std::string number(double v) {
  char text[32];
  if (v >= 1000) std::snprintf(text, sizeof text, "%.0f", v);
  else if (v >= 10) std::snprintf(text, sizeof text, "%.1f", v);
  else std::snprintf(text, sizeof text, "%.3g", v);
  return text;
}

// Escapes the characters XML gives meaning to (titles carry model names).
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A round axis maximum at or above `v` (1, 2 or 5 times a power of ten).
double nice_ceiling(double v) {
  if (v <= 0) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  for (double step : {1.0, 2.0, 5.0, 10.0})
    if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}

}  // namespace

std::string throughput_latency_svg(const std::vector<ChartPoint>& points, const std::string& title, double latency_target_ms) {
  double max_x = latency_target_ms > 0 ? latency_target_ms : 0, max_y = 0;
  for (const ChartPoint& p : points) {
    max_x = std::max(max_x, p.p95_ms);
    max_y = std::max(max_y, p.inferences_per_s);
  }
  max_x = nice_ceiling(max_x * 1.05);
  max_y = nice_ceiling(max_y * 1.05);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x_of = [&](double ms) { return kLeft + plot_w * ms / max_x; };
  auto y_of = [&](double per_s) { return kTop + plot_h * (1 - per_s / max_y); };
  std::string svg;
  char buf[256];
  std::snprintf(buf, sizeof buf, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
                kWidth, kHeight);
  svg += buf;
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::snprintf(buf, sizeof buf, "<text x=\"%.0f\" y=\"24\" font-size=\"14\">", kLeft);
  svg += buf + escaped(title) + "</text>\n";
  for (int i = 0; i <= kTicks; ++i) {
    const double fx = max_x * i / kTicks, fy = max_y * i / kTicks;
    std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x_of(fx), kTop, x_of(fx),
                  kTop + plot_h);
    svg += buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x_of(fx), kTop + plot_h + 18,
                  number(fx).c_str());
    svg += buf;
    std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", kLeft, y_of(fy),
                  kLeft + plot_w, y_of(fy));
    svg += buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", kLeft - 6, y_of(fy) + 4,
                  number(fy).c_str());
    svg += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">p95 latency (ms)</text>\n", kLeft + plot_w / 2,
                kHeight - 14);
  svg += buf;
  std::snprintf(buf, sizeof buf, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">inferences/s</text>\n",
                kTop + plot_h / 2);
  svg += buf;
  if (latency_target_ms > 0) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" stroke-dasharray=\"6 4\"/>\n"
                  "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c0392b\">p95 target %s ms</text>\n",
                  x_of(latency_target_ms), kTop, x_of(latency_target_ms), kTop + plot_h, x_of(latency_target_ms) + 4, kTop + 12,
                  number(latency_target_ms).c_str());
    svg += buf;
  }
  if (points.size() > 1) {
    svg += "<polyline fill=\"none\" stroke=\"#2c7fb8\" stroke-width=\"2\" points=\"";
    for (const ChartPoint& p : points) {
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x_of(p.p95_ms), y_of(p.inferences_per_s));
      svg += buf;
    }
    svg += "\"/>\n";
  }
  for (const ChartPoint& p : points) {
    std::snprintf(buf, sizeof buf,
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#2c7fb8\"/>\n"
                  "<text x=\"%.1f\" y=\"%.1f\">c=%d</text>\n",
                  x_of(p.p95_ms), y_of(p.inferences_per_s), x_of(p.p95_ms) + 6, y_of(p.inferences_per_s) - 6, p.concurrency);
    svg += buf;
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace kiln::cli::perf
