#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tui/view_state.hpp"

namespace galeratop {

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

/// The whole screen: exactly `height` lines, each at most `width` columns.
/// Pure: (status, view, size, now) in, text and attributes out; `status` is null before
/// the first answer. Columns are dropped, least important first, to fit the width.
std::vector<screen_line> layout_screen(const nlohmann::json& status, const view_state& v, int width, int height,
                                       screen_clock::time_point now, const std::string& version);

/// Columns a UTF-8 string takes (one per code point: the screen draws no wide characters).
std::size_t display_width(std::string_view s);

}  // namespace galeratop
