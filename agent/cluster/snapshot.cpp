#include "agent/cluster/snapshot.hpp"

namespace galeratop {

node_snapshot snapshot_of(const node_record& r, bool intents_known) {
  node_snapshot n;
  n.name = r.name();
  n.address = r.address;
  n.resolved = r.resolved.to_string();
  const health& h = r.tracker.current();
  n.state = h.state;
  n.up = h.up;
  n.suspect = h.suspect;
  n.suspicions_total = r.tracker.suspicions();
  n.reason = h.reason;
  n.eligible = r.eligible;
  n.excluded = exclusion_of(r.eligible, h, r.intent.admin, intents_known, r.weight());
  n.admin = r.intent.admin;
  n.admin_since = r.intent.since;
  n.intent_version = r.intent.version;
  n.intent_pending = r.intent.pending;
  n.weight = r.weight();
  n.writer_priority = r.writer_priority;
  n.proxy_protocol = r.proxy_protocol;
  n.connections = r.connections;
  n.connections_total = r.traffic.connections_total;
  n.connect_errors = r.traffic.connect_errors;
  const session_counters& live = *r.traffic.live;  // the relay thread counts them
  n.bytes_in = live.in.load(std::memory_order_relaxed);
  n.bytes_out = live.out.load(std::memory_order_relaxed);
  n.queries_total = live.queries.load(std::memory_order_relaxed);
  n.query_latency = r.query_latency();
  // The counters say what happened since the start; the window, what happens now.
  n.queries_per_second = r.recent_queries.queries_per_second();
  n.query_p99_seconds = r.recent_queries.p99();
  n.query_p50_seconds = r.recent_queries.quantile(0.5);
  n.in_transaction = live.in_transaction.load(std::memory_order_relaxed);
  n.opaque = live.opaque.load(std::memory_order_relaxed);
  n.opaque_total = live.opaque_total.load(std::memory_order_relaxed);
  n.safe_closes_total = live.safe_closes.load(std::memory_order_relaxed);
  n.sessions_cut_total = live.cuts.load(std::memory_order_relaxed);
  const observation& last = r.monitor.last;
  n.monitor_up = last.status.has_value();
  n.monitor_error = last.error;
  n.observed_at = last.at;
  n.check_latency = last.latency;
  n.status = last.status;
  n.node_name = last.node_name;
  n.cluster_name = last.cluster_name;
  n.poll = r.monitor.poll;
  n.monitor_errors = r.monitor.errors;
  n.recent_monitor_errors.assign(r.monitor.recent.entries().begin(), r.monitor.recent.entries().end());
  return n;
}

}  // namespace galeratop
