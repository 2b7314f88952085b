#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tui/screen_text.hpp"
#include "tui/view_state.hpp"

namespace galeratop {

/// The node detail view (Enter on a node): who the node is and what holds it (state, admin,
/// intent with who set it and when), its wsrep and query figures now with a minute's sparkline
/// each, its sessions, and its monitor's last failures. `node` is one of status["nodes"]. Pure;
/// lines may be wider than `width` (the screen cuts them), the sparklines are sized to fit. In
/// fewer than `height` lines, the least needed go first: blank lines, totals, the reason, older
/// monitor failures, the listeners.
std::vector<screen_line> node_detail(const nlohmann::json& status, const nlohmann::json& node, const view_state& v,
                                     std::size_t width, std::size_t height);

}  // namespace galeratop
