#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace galeratop {

// The pieces every screen of galeratop is drawn with: the main table, the node detail, help.

/// How a piece of text is drawn; the terminal maps these to colours, or to bold and
/// reverse without colour (NO_COLOR).
enum class attr { normal, title, header, selected, good, warn, bad, dim, key };

/// A run of text with one attribute.
struct span {
  std::string text;  ///< UTF-8
  galeratop::attr attr = attr::normal;
};

/// One screen line, left to right; never wider than the screen.
using screen_line = std::vector<span>;

/// A line of one span.
inline screen_line text_line(std::string text, attr a = attr::normal) { return {span{std::move(text), a}}; }

/// Columns a UTF-8 string takes (one per code point: the screen draws no wide characters).
std::size_t display_width(std::string_view s);
/// A UTF-8 string cut to `width` columns.
std::string cut(std::string_view s, std::size_t width);
/// Cut or filled with spaces to exactly `width` columns, on the left when `right`.
std::string pad(std::string_view s, std::size_t width, bool right = false);
/// A line cut to `width` columns.
screen_line clip(screen_line line, std::size_t width);

/// A rate as the screen shows it: one decimal below 10.
std::string rate(double v);
/// A byte count with a binary unit: "512", "1.5K", "3.2M".
std::string bytes(double v);
/// How a node's state is drawn: synced good, down and non-Primary bad, the rest a warning.
attr state_attr(const std::string& state);

/// A series of one sample a second over the last minute (node_history) in `width` characters,
/// scaled to `top`: each character covers the same share of the minute, as high as its peak.
std::string sparkline(const std::deque<double>* series, std::size_t width, double top, bool ascii);

}  // namespace galeratop
