#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "balancer/core/health_tracker.hpp"
#include "balancer/core/intent.hpp"
#include "balancer/core/observation.hpp"
#include "balancer/core/poll_histogram.hpp"

namespace galeratop {

/// Stable identity of a configured node for the life of the process.
using node_id = std::uint32_t;

/// Bytes relayed for one node, counted by the relay thread and read by the io thread (relaxed
/// atomics: figures for metrics, never used to order anything). Shared with the relay, so that
/// the sessions of a node a reload removed still have somewhere to count until they end.
struct byte_counters {
  std::atomic<std::uint64_t> in{0};   ///< client to node
  std::atomic<std::uint64_t> out{0};  ///< node to client
};

/// What the data path has done with one node.
struct node_traffic {
  std::uint64_t connections_total = 0;  ///< sessions established (greeting relayed)
  std::uint64_t connect_errors = 0;     ///< connects that failed or timed out
  std::shared_ptr<byte_counters> bytes = std::make_shared<byte_counters>();  ///< never null
};

/// What the monitor's checks of one node found and cost.
struct monitor_figures {
  observation last;          ///< the latest check
  poll_histogram poll;       ///< how long the successful checks took
  std::uint64_t errors = 0;  ///< failed checks since the node was added
};

/// Where a configured HOST:PORT resolved to, once at start or reload: the data path never waits for DNS.
struct resolved_address {
  std::string ip;  ///< numeric, as the resolver gave it
  std::uint16_t port = 0;

  /// IP:PORT, the form wsrep_incoming_addresses uses for IPv4 members.
  std::string to_string() const;
};

/// One configured node: every fact galeratopd holds about it, in one record keyed by `id`
/// (DESIGN rule 2). The io thread owns it, inside the routing table; the address is its key
/// only at the edges (the configuration, the state file, the shared intents table).
struct node_record {
  // Identity: from the configuration, replaced in place at a reload.
  node_id id = 0;
  std::string configured_name;  ///< empty: the name comes from wsrep_node_name
  std::string address;          ///< HOST:PORT as configured
  resolved_address resolved;
  std::uint32_t configured_weight = 1;  ///< 0 = no new connections, keep existing (glb)

  /// The operator's intent: written by operators' commands and the shared table only, never by health.
  galeratop::intent intent;
  std::uint64_t admin_generation = 0;  ///< +1 at every admin change: a maint grace ends only if none came since

  // Health: the monitor's checks and the data path's failed connects.
  health_tracker tracker;
  monitor_figures monitor;

  // Routing: `eligible` is derived by routing_table::refresh(); the balancer counts the rest.
  std::uint32_t connections = 0;  ///< client sessions held to this node, connecting ones included
  bool eligible = false;          ///< takes new clients now; never set outside routing_table::refresh()
  std::int64_t rr_credit = 0;     ///< smooth weighted round-robin state
  node_traffic traffic;

  /// The weight it is balanced with (intent::effective_weight).
  std::uint32_t weight() const { return intent.effective_weight(configured_weight); }
  /// The configured name, else the node's own wsrep_node_name, else the address (DESIGN section 2).
  const std::string& name() const;
};

}  // namespace galeratop
