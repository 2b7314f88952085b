#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "balancer/core/galera_state.hpp"
#include "balancer/core/health_tracker.hpp"

namespace galeratop {

/// Why a node takes no new clients: the first cause that holds, in the order routing_table::refresh
/// weighs them. The one place that names it: the log's word and the events' phrase both come from here.
enum class exclusion {
  none,              ///< eligible
  suspect,           ///< its checks go unanswered: no new clients, its sessions kept
  unhealthy,         ///< down, non-Primary, joining, ...: health says no
  admin,             ///< an operator's drain or maint
  awaiting_intents,  ///< the operators' shared intents are not read yet (a new agent)
  weight_0,          ///< weight 0: no new connections, keep existing (glb)
  avoided,           ///< a donor while a Synced node can take its clients (donor policy)
};

/// The cause that keeps a node with these facts from new clients (none when `eligible`).
exclusion exclusion_of(bool eligible, const health& h, admin_state admin, bool intents_known, std::uint32_t weight);

/// One word, as the log's node lines show it: "eligible", "suspect", "not-eligible", "drain",
/// "maint", "awaiting-intents", "weight-0", "avoided".
std::string_view exclusion_word(exclusion e, admin_state admin);

/// The phrase events show after "not eligible: ": "suspect: REASON", the health REASON, "drain",
/// "waiting for the operators' shared intents", "weight 0", "avoided: another node can take its
/// clients (donor policy)".
std::string exclusion_phrase(exclusion e, admin_state admin, std::string_view reason);

}  // namespace galeratop
