#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/config/config.hpp"
#include "balancer/core/node_record.hpp"

namespace galeratop {

/// What a new configuration does to the running nodes. A node is the same node across a
/// reload when its configured address (HOST:PORT as written) is the same: it keeps its id,
/// health, intent and sessions. A changed address is a new node, and the old one is removed.
struct reload_plan {
  /// One node of the new configuration.
  struct node {
    std::optional<node_id> running;  ///< the running node it is; nullopt: a node to add
    bool weight_changed = false;     ///< running, with another configured weight
  };
  std::vector<node> nodes;       ///< one for each node of the new configuration, in its order
  std::vector<node_id> removed;  ///< running nodes the new configuration no longer has
};

/// Matches the running nodes with the new configuration's (pure).
reload_plan plan_reload(std::span<const node_record> running, std::span<const node_config> next);

/// Keeps in `next` the keys only a restart can change (the sockets, files and user galeratopd
/// opened or became at start, and the [intents] keys) as they are in `running`; returns one
/// warning for each that the new configuration changed.
std::vector<std::string> keep_start_only_keys(config& next, const config& running);

}  // namespace galeratop
