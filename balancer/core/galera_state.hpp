#pragma once

#include <optional>
#include <string_view>

namespace galeratop {

/// What a node is, as far as Galera and the monitor can tell.
enum class galera_state {
  unknown,      ///< not checked yet
  down,         ///< the monitor cannot reach it
  non_primary,  ///< reachable but outside the Primary component (ERROR 1047 to clients)
  initialized,  ///< Primary but no local state yet
  joining,      ///< receiving a state transfer
  joined,       ///< caught up, applying the backlog before Synced
  donor,        ///< Donor/Desynced: serving a state transfer or wsrep_desync=ON
  synced,       ///< a full member
};

/// The lower-case name used in logs, JSON and metrics (DESIGN section 2).
std::string_view to_string(galera_state s);

/// The operator's intent for a node, stored apart from health (DESIGN section 3).
enum class admin_state {
  ready,  ///< takes new connections when healthy
  drain,  ///< no new connections; existing ones run to their end
  maint,  ///< no new connections; existing ones are closed after a grace
};

/// "ready", "drain" or "maint".
std::string_view to_string(admin_state s);
/// The state in a sentence's words: "ready", "drained", "in maintenance".
std::string_view describe(admin_state s);

/// The inverse of to_string; nullopt for an unknown name.
std::optional<admin_state> admin_state_from_string(std::string_view s);

}  // namespace galeratop
