#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "balancer/core/health_tracker.hpp"
#include "balancer/core/intent.hpp"
#include "balancer/core/monitor_errors.hpp"
#include "balancer/core/observation.hpp"
#include "balancer/core/poll_histogram.hpp"
#include "balancer/core/query_window.hpp"

namespace galeratop {

/// Stable identity of a configured node for the life of the process.
using node_id = std::uint32_t;

/// What the relay has seen of one node's sessions, counted by the relay thread and read by the io
/// thread (relaxed atomics: figures for metrics, never used to order anything). Shared with the
/// relay, so that the sessions of a node a reload removed still have somewhere to count until they end.
struct session_counters {
  std::atomic<std::uint64_t> in{0};   ///< bytes, client to node
  std::atomic<std::uint64_t> out{0};  ///< bytes, node to client
  std::atomic<std::uint64_t> queries{0};  ///< commands whose response ended (the ones without a response too)
  /// Queries by latency, from the command to the end of its response: one count per bucket of
  /// query_latency_bounds, not cumulative; the last one is +Inf.
  std::array<std::atomic<std::uint64_t>, query_latency_bounds.size() + 1> latency{};
  std::atomic<std::uint64_t> latency_sum_us{0};  ///< the sum of those latencies, microseconds
  std::atomic<std::int64_t> in_transaction{0};  ///< sessions inside a transaction now (a gauge)
  std::atomic<std::int64_t> opaque{0};          ///< sessions the relay cannot follow now (a gauge)
  std::atomic<std::uint64_t> opaque_total{0};   ///< sessions that became opaque
  std::atomic<std::uint64_t> safe_closes{0};    ///< sessions closed at a safe point (drain, maint, removal)
  std::atomic<std::uint64_t> cuts{0};  ///< sessions closed in a query or transaction (maint deadline, node lost)
};

/// What the data path has done with one node.
struct node_traffic {
  std::uint64_t connections_total = 0;  ///< sessions established (greeting relayed)
  std::uint64_t connect_errors = 0;     ///< connects that failed or timed out
  std::shared_ptr<session_counters> live = std::make_shared<session_counters>();  ///< never null
};

/// What the monitor's checks of one node found and cost.
struct monitor_figures {
  observation last;          ///< the latest check
  poll_histogram poll;       ///< how long the successful checks took
  std::uint64_t errors = 0;  ///< failed checks since the node was added
  monitor_errors recent;     ///< the last few failures, for the screen's node detail
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
  std::uint32_t writer_priority = 1;    ///< writer listeners prefer the highest; 0 = never the writer
  bool proxy_protocol = false;          ///< a client's session starts with a PROXY v2 header naming the client

  /// The operator's intent: written by operators' commands and the shared table only, never by health.
  galeratop::intent intent;
  std::uint64_t admin_generation = 0;  ///< +1 at every admin change: a maint grace ends only if none came since

  // Health: the monitor's checks and the data path's failed connects.
  health_tracker tracker;
  monitor_figures monitor;

  /// A change of its intent held here is being written to the shared table: that write's
  /// outcome, not a read of the table meanwhile, decides the intent.
  bool intent_in_flight = false;

  // Routing: `eligible` is derived by routing_table::refresh(); the session registry counts connections.
  std::uint32_t connections = 0;  ///< client sessions held to this node, connecting ones included
  bool eligible = false;          ///< takes new clients now; never set outside routing_table::refresh()
  std::int64_t rr_credit = 0;     ///< smooth weighted round-robin state
  node_traffic traffic;
  query_window recent_queries;  ///< the last few seconds of its query counters (routing_table::sample_queries)

  /// Its query latencies since it was added, as one histogram (the relay counts them).
  query_histogram query_latency() const;
  /// The weight it is balanced with (intent::effective_weight).
  std::uint32_t weight() const { return intent.effective_weight(configured_weight); }
  /// The configured name, else the node's own wsrep_node_name, else the address (DESIGN section 2).
  const std::string& name() const;
};

}  // namespace galeratop
