#pragma once

#include <nlohmann/json.hpp>

#include "agent/cluster/snapshot.hpp"

namespace galeratop {

/// The status object of `galeratop status --json` and of the control
/// endpoint (DESIGN section 2): cluster, nodes, advisories, bootstrap_candidate, frontend.
nlohmann::json to_json(const snapshot& s);

/// One event: {"seq", "time" (UTC, milliseconds), "kind", "node", "message", "who"}.
nlohmann::json to_json(const event& e);

}  // namespace galeratop
