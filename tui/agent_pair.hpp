#pragma once

#include <string>
#include <vector>

#include "tui/screen_text.hpp"
#include "tui/view_state.hpp"

namespace galeratop {

/// Where the agents the screen follows disagree, one line of words each: a node's admin state or
/// weight ("node2 (127.0.0.1:3312) admin: drain on [2], ready on [1]"), or the writer of writer
/// listeners. Only agents with a status count; empty when they agree. Pure.
std::vector<std::string> agent_disagreements(const std::vector<agent_glance>& agents);

/// The agents line (each agent numbered, the one shown marked, the unreachable ones in red, and
/// whether they agree), then a line per disagreement; nothing with one agent. Pure.
std::vector<screen_line> agents_lines(const view_state& v);

}  // namespace galeratop
