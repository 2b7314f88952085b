#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/cluster/snapshot.hpp"
#include "balancer/core/wsrep_status.hpp"

namespace galeratop::test {

inline std::string fmt_number(double v) { return std::to_string(static_cast<long long>(v)); }

/// A configured node as the cluster model sees it; defaults are a Synced,
/// eligible member of a healthy 3-node cluster.
struct member_view {
  std::string name = "n1";
  std::string address = "127.0.0.1:3306";
  galera_state state = galera_state::synced;
  bool eligible = true;
  std::string cluster_status = "Primary";
  std::string uuid = "b1b1b1b1-0000-11ee-8000-000000000001";
  std::uint64_t conf_id = 7;
  std::uint32_t size = 3;
  std::int64_t seqno = 100;
  std::string node_name{};  ///< empty: same as name
  std::string cluster_name = "prod";
  std::string incoming = "127.0.0.1:3306,127.0.0.1:3307,127.0.0.1:3308";
  double paused_ns = 0;
  double fc_sent = 0;
  bool reachable = true;
};

inline node_snapshot member(const member_view& v, mono_clock::time_point at = {}) {
  node_snapshot n;
  n.name = v.name;
  n.address = v.address;
  n.state = v.reachable ? v.state : galera_state::down;
  n.up = v.eligible;
  n.eligible = v.reachable && v.eligible;
  n.observed_at = at;
  n.monitor_up = v.reachable;
  if (!v.reachable) {
    n.monitor_error = "Can't connect to server on '127.0.0.1' (111)";
    return n;
  }
  n.node_name = v.node_name.empty() ? v.name : v.node_name;
  n.cluster_name = v.cluster_name;
  std::vector<std::pair<std::string, std::string>> rows{
      {"wsrep_cluster_status", v.cluster_status},
      {"wsrep_cluster_state_uuid", v.uuid},
      {"wsrep_local_state_uuid", v.uuid},
      {"wsrep_cluster_conf_id", std::to_string(v.conf_id)},
      {"wsrep_cluster_size", std::to_string(v.size)},
      {"wsrep_local_state", v.state == galera_state::donor ? "2" : "4"},
      {"wsrep_local_state_comment", v.state == galera_state::donor ? "Donor/Desynced" : "Synced"},
      {"wsrep_ready", "ON"},
      {"wsrep_connected", "ON"},
      {"wsrep_last_committed", std::to_string(v.seqno)},
      {"wsrep_incoming_addresses", v.incoming},
      {"wsrep_flow_control_paused_ns", fmt_number(v.paused_ns)},
      {"wsrep_flow_control_sent", fmt_number(v.fc_sent)},
      {"wsrep_flow_control_paused", "0.000000"},
      {"wsrep_provider_version", "26.4.23(r1234)"},
      {"wsrep_evs_repl_latency", "0/0/0/0/0"},
  };
  n.status = parse_wsrep_status(rows);
  return n;
}

/// Three Synced members n1..n3 on ports 3306..3308.
inline std::vector<node_snapshot> healthy_cluster(mono_clock::time_point at = {}) {
  return {member({.name = "n1", .address = "127.0.0.1:3306"}, at),
          member({.name = "n2", .address = "127.0.0.1:3307"}, at),
          member({.name = "n3", .address = "127.0.0.1:3308"}, at)};
}

/// A point on the model's clock, `ms` milliseconds from an arbitrary origin.
inline mono_clock::time_point at_ms(long long ms) { return mono_clock::time_point{} + std::chrono::milliseconds(ms); }

}  // namespace galeratop::test
