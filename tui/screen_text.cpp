#include "tui/screen_text.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>

#include "tui/view_state.hpp"

namespace galeratop {

std::size_t display_width(std::string_view s) {
  return static_cast<std::size_t>(
      std::ranges::count_if(s, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string cut(std::string_view s, std::size_t width) {
  std::size_t cols = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (cols == width) break;
      ++cols;
    }
  }
  return std::string(s.substr(0, i));
}

std::string pad(std::string_view s, std::size_t width, bool right) {
  std::string t = cut(s, width);
  const std::string fill(width - display_width(t), ' ');
  return right ? fill + t : t + fill;
}

std::string rate(double v) {
  if (v < 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.0f}", v);
}

std::string bytes(double v) {
  constexpr std::array units{"", "K", "M", "G", "T"};
  std::size_t u = 0;
  while (v >= 1000 && u + 1 < units.size()) v /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f}", v) : fmt::format("{:.1f}{}", v, units[u]);
}

attr state_attr(const std::string& state) {
  if (state == "synced") return attr::good;
  if (state == "down" || state == "non_primary") return attr::bad;
  if (state == "unknown") return attr::dim;
  return attr::warn;  // suspect, donor, joining, joined, initialized: alive but not a full member, or late
}

screen_line clip(screen_line line, std::size_t width) {
  screen_line out;
  std::size_t used = 0;
  for (span& s : line) {
    if (used >= width) break;
    const std::size_t w = display_width(s.text);
    if (used + w > width) s.text = cut(s.text, width - used);
    used += display_width(s.text);
    out.push_back(std::move(s));
  }
  return out;
}

std::string sparkline(const std::deque<double>* series, std::size_t width, double top, bool ascii) {
  static constexpr std::array<std::string_view, 8> levels{"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  static constexpr std::string_view ascii_levels = "_.:-=+*#";
  std::string out;
  if (!series || series->empty()) return std::string(width, ' ');
  // Each character covers the same share of the last minute; its height is the peak in it.
  const std::size_t per = (node_history::samples + width - 1) / width;
  const std::size_t n = series->size();
  const std::size_t chars = (n + per - 1) / per;
  for (std::size_t c = 0; c < width - std::min(width, chars); ++c) out += ' ';
  for (std::size_t c = 0; c < std::min(width, chars); ++c) {
    double peak = 0;
    const std::size_t first = n - std::min(n, (std::min(width, chars) - c) * per);
    for (std::size_t i = first; i < std::min(n, first + per); ++i) peak = std::max(peak, (*series)[i]);
    const auto level = static_cast<std::size_t>(std::lround(7.0 * std::clamp(peak / std::max(top, 1e-9), 0.0, 1.0)));
    out += ascii ? std::string(1, ascii_levels[level]) : std::string(levels[level]);
  }
  return out;
}

}  // namespace galeratop
