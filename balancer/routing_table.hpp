#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "galera_state.hpp"
#include "health_tracker.hpp"
#include "observation.hpp"

namespace galeratop {

/// Stable identity of a configured node for the life of the process.
using node_id = std::uint32_t;

/// How a new client is assigned among eligible nodes.
enum class balance_policy { leastconn, roundrobin };

/// What to do with a Donor/Desynced node.
enum class donor_policy {
  avoid,  ///< no new connections while another node can serve; served if it is the last one
  serve,  ///< treated like Synced
};

/// One node as the router sees it.
struct route {
  node_id id = 0;
  std::string configured_name;  ///< empty: the name comes from wsrep_node_name
  std::string address;          ///< HOST:PORT as configured
  std::uint32_t weight = 1;     ///< 0 = no new connections, keep existing (glb)
  admin_state admin = admin_state::ready;
  health_tracker tracker;
  observation last;               ///< the latest monitor check
  std::uint32_t connections = 0;  ///< client sessions held to this node, connecting ones included
  bool eligible = false;          ///< derived by routing_table::refresh(), never set elsewhere
  std::int64_t rr_credit = 0;     ///< smooth weighted round-robin state

  /// The configured name, else the node's own wsrep_node_name, else the address (DESIGN section 2).
  const std::string& name() const;
};

/// All nodes and the decisions over them. Pure: no clock, no I/O.
class routing_table {
 public:
  /// Adds a node, not up until the monitor has seen it healthy.
  route& add(node_id id, std::string configured_name, std::string address, std::uint32_t weight, int rise);
  /// Forgets a node; its sessions are the caller's business.
  void remove(node_id id);
  route* find(node_id id);
  const route* find(node_id id) const;
  std::span<route> routes() { return routes_; }
  std::span<const route> routes() const { return routes_; }

  /// Records a monitor check; returns true when the node's health changed.
  bool observe(node_id id, observation obs);

  /// Recomputes every route's `eligible` flag; call after any change.
  void refresh(donor_policy donors);

  /// Whether the operators' intents are known; until they are, no node is eligible (call refresh()).
  void set_intents_known(bool known) { intents_known_ = known; }
  bool intents_known() const { return intents_known_; }

  /// Whether some other node would still take new clients if `id` stopped taking them:
  /// the guard against a drain or maint that leaves clients nowhere to go.
  bool others_eligible_without(node_id id, donor_policy donors) const;

  /// Picks a node for a new client, skipping `tried`; nullopt when none is eligible.
  std::optional<node_id> pick(balance_policy policy, std::span<const node_id> tried = {});

  /// Why no node is eligible, e.g. "no Galera node is available (3 configured: 2 down, 1 non-Primary)".
  std::string unavailable_reason() const;

  /// The other nodes in a few words, for the last-node refusal: "node1 down, node3 synced drain".
  std::string others_summary(node_id id) const;

  /// The freshest view among the other reachable Primary nodes, for stale-view detection.
  peer_view peers_of(node_id id) const;

 private:
  std::optional<node_id> pick_leastconn(std::span<const node_id> tried);
  std::optional<node_id> pick_roundrobin(std::span<const node_id> tried);

  std::vector<route> routes_;
  std::size_t rr_cursor_ = 0;  // where leastconn's tie-break starts looking
  // False while a new agent has not read the intents other agents share: a node drained through
  // another agent would otherwise look ready here for the few ms until that read lands.
  bool intents_known_ = true;
};

}  // namespace galeratop
