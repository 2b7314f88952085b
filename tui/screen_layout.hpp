#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tui/screen_text.hpp"
#include "tui/view_state.hpp"

namespace galeratop {

/// The whole screen: exactly `height` lines, each at most `width` columns.
/// Pure: (status, view, size, now) in, text and attributes out; `status` is null before
/// the first answer. Columns are dropped, least important first, to fit the width.
std::vector<screen_line> layout_screen(const nlohmann::json& status, const view_state& v, int width, int height,
                                       screen_clock::time_point now, const std::string& version);

}  // namespace galeratop
