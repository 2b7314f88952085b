#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "balancer/core/balancer_settings.hpp"
#include "balancer/core/galera_state.hpp"
#include "balancer/core/health_tracker.hpp"
#include "balancer/core/node_record.hpp"
#include "balancer/core/observation.hpp"

namespace galeratop {

/// Every configured node's record and the decisions over them. Pure: no clock, no I/O.
class routing_table {
 public:
  /// Adds a node, not up until the monitor has seen it healthy; the caller fills in the rest of its record.
  node_record& add(node_id id, std::string configured_name, std::string address, std::uint32_t configured_weight,
                   const health_rules& rules);
  /// Forgets a node; its sessions are the caller's business.
  void remove(node_id id);
  /// The node's record; nullptr for an id no longer configured.
  node_record* find(node_id id);
  const node_record* find(node_id id) const;
  /// The node configured at HOST:PORT `address` (the key the state file and the shared table use).
  const node_record* find_address(std::string_view address) const;
  /// The node's name for a log line or a client's error; its id for one a reload has removed.
  std::string name_of(node_id id) const;
  /// Every node, in the order they were configured.
  std::span<node_record> records() { return records_; }
  std::span<const node_record> records() const { return records_; }

  /// Samples every node's query counters into its recent_queries window (the agent's tick).
  void sample_queries(mono_clock::time_point now);

  /// Records a monitor check: the node's health and its monitor figures.
  void observe(node_id id, observation obs);

  /// Takes the nodes suspect for longer than their hung_time at `now` for down; true when one was.
  bool expire_suspects(mono_clock::time_point now);

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

  std::vector<node_record> records_;
  std::size_t rr_cursor_ = 0;  // where leastconn's tie-break starts looking
  // False while a new agent has not read the intents other agents share: a node drained through
  // another agent would otherwise look ready here for the few ms until that read lands.
  bool intents_known_ = true;
};

}  // namespace galeratop
