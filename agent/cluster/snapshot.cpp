#include "agent/cluster/snapshot.hpp"

namespace galeratop {

node_snapshot snapshot_of(const node_record& r) {
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
  n.admin = r.intent.admin;
  n.admin_since = r.intent.since;
  n.intent_version = r.intent.version;
  n.intent_pending = r.intent.pending;
  n.weight = r.weight();
  n.connections = r.connections;
  n.connections_total = r.traffic.connections_total;
  n.connect_errors = r.traffic.connect_errors;
  n.bytes_in = r.traffic.bytes->in.load(std::memory_order_relaxed);  // the relay thread counts them
  n.bytes_out = r.traffic.bytes->out.load(std::memory_order_relaxed);
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
  return n;
}

}  // namespace galeratop
