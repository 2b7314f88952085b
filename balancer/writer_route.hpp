#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "balancer/core/routing_table.hpp"

namespace galeratop {

/// Where writer listeners send new sessions, and how far a switch has gone. A switch is clean:
/// new sessions reach the new writer only once no writer-listener session is left on another
/// node (settled), so that no session writes on the old writer beside the new one. Pure: the
/// writer switch (writer_switch.hpp) closes the sessions it names.
struct writer_route {
  std::optional<node_id> node;  ///< the writer; nullopt: none now (new sessions wait, then are refused)
  std::string why;              ///< why there is none, or why it changed last
  bool settled = true;          ///< no writer-listener session is left on another node
  std::uint64_t switches = 0;   ///< times writer listeners moved from one node to another (failovers too)
  /// The last node writer listeners were sent to: a failover passes through "none" (the old writer
  /// lost, the new one not recorded yet), and a switch is counted from this, whatever came between.
  std::optional<node_id> last;
  std::uint64_t generation = 0;  ///< +1 at every change of writer: a barrier ends only the switch it began

  /// Routes to `writer` (nullopt: none) for `reason`; true when that is a change of node, which
  /// begins a new generation, unsettled until settle() finds no session left elsewhere.
  bool route_to(std::optional<node_id> writer, std::string reason);
  /// Whether a writer-listener session on `on` is left from an earlier writer: on another node
  /// than the writer, or on any node while there is none.
  bool strays(node_id on) const { return !node || on != *node; }
  /// Ends a switch once `left` writer-listener sessions remain elsewhere and that is none; true
  /// when this ended it (the clients waiting for the writer go on).
  bool settle(std::size_t left);
  /// Whether the barrier begun at `at` still has a switch to end: no newer one began, and it has not settled.
  bool barrier_due(std::uint64_t at) const { return at == generation && !settled; }
  /// The writer new sessions may go to now: settled, and eligible in `t`; nullopt otherwise.
  std::optional<node_id> ready(const routing_table& t) const;
};

}  // namespace galeratop
