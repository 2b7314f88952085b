#include "exporters/metric_families.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <set>
#include <string>

namespace galeratop {
namespace {
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using labels = std::vector<ClientMetric::Label>;

// mysqld_exporter's HELP texts, kept verbatim so that its users find what they know.
constexpr std::string_view global_status_help = "Generic metric from SHOW GLOBAL STATUS.";

// The wsrep status variables exported, under mysqld_exporter's names: those Galera dashboards
// and alert rules use. Not all ~55: every family costs HELP and TYPE lines and their text on each scrape.
// Each must also be monitored (monitored_wsrep_variables(); a unit test checks).
constexpr std::array<std::string_view, 28> exported_wsrep{
    "wsrep_apply_window",        "wsrep_cert_deps_distance",    "wsrep_cluster_conf_id",
    "wsrep_cluster_size",        "wsrep_cluster_status",        "wsrep_cluster_weight",
    "wsrep_commit_window",       "wsrep_connected",             "wsrep_desync_count",
    "wsrep_flow_control_paused", "wsrep_flow_control_recv",     "wsrep_flow_control_sent",
    "wsrep_last_committed",      "wsrep_local_bf_aborts",       "wsrep_local_cert_failures",
    "wsrep_local_commits",       "wsrep_local_recv_queue",      "wsrep_local_recv_queue_avg",
    "wsrep_local_replays",       "wsrep_local_send_queue",      "wsrep_local_send_queue_avg",
    "wsrep_local_state",         "wsrep_open_transactions",     "wsrep_ready",
    "wsrep_received",            "wsrep_received_bytes",        "wsrep_replicated",
    "wsrep_replicated_bytes"};

constexpr std::array all_states{galera_state::synced,      galera_state::donor,   galera_state::joining,
                                galera_state::joined,      galera_state::initialized, galera_state::non_primary,
                                galera_state::down,        galera_state::unknown};
constexpr std::array all_admin_states{admin_state::ready, admin_state::drain, admin_state::maint};

/// Families in the order they are first asked for, so the exposition is stable.
class family_set {
 public:
  MetricFamily& get(const std::string& name, std::string_view help, MetricType type) {
    auto [it, fresh] = index_.try_emplace(name, families_.size());
    if (fresh) families_.push_back(MetricFamily{name, std::string(help), type, {}});
    return families_[it->second];
  }
  void gauge(const std::string& name, std::string_view help, labels l, double v) {
    add(get(name, help, MetricType::Gauge), std::move(l)).gauge.value = v;
  }
  void counter(const std::string& name, std::string_view help, labels l, double v) {
    add(get(name, help, MetricType::Counter), std::move(l)).counter.value = v;
  }
  void untyped(const std::string& name, std::string_view help, labels l, double v) {
    add(get(name, help, MetricType::Untyped), std::move(l)).untyped.value = v;
  }
  static ClientMetric& add(MetricFamily& f, labels l) {
    f.metric.emplace_back();
    f.metric.back().label = std::move(l);
    return f.metric.back();
  }
  std::vector<MetricFamily> take() { return std::move(families_); }

 private:
  std::vector<MetricFamily> families_;
  std::map<std::string, std::size_t> index_;
};

labels node_labels(const node_snapshot& n) { return {{"node", n.name}, {"address", n.address}}; }

labels with(labels l, std::string name, std::string value) {
  l.push_back({std::move(name), std::move(value)});
  return l;
}

double value_of(bool b) { return b ? 1 : 0; }

void wsrep_families(family_set& out, const node_snapshot& n) {
  out.gauge("mysql_up", "Whether the MySQL server is up.", node_labels(n), value_of(n.monitor_up));
  if (!n.status) return;
  for (std::string_view name : exported_wsrep) {
    auto it = n.status->raw.find(name);
    if (it == n.status->raw.end()) continue;
    if (auto v = parse_status_value(it->second))
      out.untyped(fmt::format("mysql_global_status_{}", name), global_status_help, node_labels(n), *v);
  }
  auto text = [&](std::string_view key) {
    auto it = n.status->raw.find(key);
    return it == n.status->raw.end() ? std::string{} : it->second;
  };
  if (!text("wsrep_local_state_uuid").empty()) {
    labels l = node_labels(n);
    for (std::string_view key : {"wsrep_local_state_uuid", "wsrep_cluster_state_uuid", "wsrep_provider_version"})
      l = with(std::move(l), std::string(key), text(key));
    out.gauge("mysql_galera_status_info", "PXC/Galera status information.", std::move(l), 1);
  }
}

// What the relay saw of the node's sessions. Opaque sessions (TLS, compression) are in no query figure.
void query_families(family_set& out, const node_snapshot& n, const labels& l) {
  out.counter("galeratop_node_queries_total", "Queries the balancer relayed to the node whose response ended, and "
              "those that expect none (opaque sessions not counted).", l, static_cast<double>(n.queries_total));
  MetricFamily& latency = out.get("galeratop_node_query_duration_seconds", "Query latency through the balancer, from "
                                  "the client's command to the end of the node's response.", MetricType::Histogram);
  ClientMetric& m = family_set::add(latency, l);
  m.histogram.sample_count = n.query_latency.count();
  m.histogram.sample_sum = n.query_latency.sum;
  for (std::size_t i = 0; i < query_latency_bounds.size(); ++i)
    m.histogram.bucket.push_back({n.query_latency.cumulative[i], query_latency_bounds[i]});
  m.histogram.bucket.push_back({n.query_latency.count(), std::numeric_limits<double>::infinity()});
  out.gauge("galeratop_node_sessions_in_transaction", "Client sessions to the node inside a transaction now.", l,
            static_cast<double>(n.in_transaction));
  out.gauge("galeratop_node_sessions_opaque", "Client sessions to the node the balancer cannot follow now (TLS, "
            "compression).", l, static_cast<double>(n.opaque));
  out.counter("galeratop_node_sessions_opaque_total", "Client sessions to the node that became opaque to the "
              "balancer (TLS, compression).", l, static_cast<double>(n.opaque_total));
  out.counter("galeratop_node_safe_closes_total", "Client sessions to the node the balancer closed at a safe point, "
              "outside any query and transaction (drain, maint, the node's removal).", l,
              static_cast<double>(n.safe_closes_total));
  out.counter("galeratop_node_sessions_cut_total", "Client sessions to the node closed with a query or transaction "
              "in flight (maint's deadline, the node lost).", l, static_cast<double>(n.sessions_cut_total));
}

void balancer_families(family_set& out, const node_snapshot& n) {
  const labels l = node_labels(n);
  out.gauge("galeratop_node_up", "Whether the node's health allows connections (1) or not (0).", l, value_of(n.up));
  out.gauge("galeratop_node_suspect", "Whether the node's checks stopped getting an answer in time (1): no new "
            "connections, its open ones kept until it answers or is taken for down.", l, value_of(n.suspect));
  out.counter("galeratop_node_suspect_total", "Times the node became suspect: checks without an answer within the "
              "monitor's timeout while it was up.", l, static_cast<double>(n.suspicions_total));
  out.gauge("galeratop_node_eligible", "Whether the node takes new client connections now (health, admin state, "
            "weight and donor policy together).", l, value_of(n.eligible));
  for (galera_state s : all_states)
    out.gauge("galeratop_node_state", "The node's Galera state as galeratopd sees it, one series per state; the "
              "current one is 1.", with(l, "state", std::string(to_string(s))), value_of(n.state == s));
  for (admin_state a : all_admin_states)
    out.gauge("galeratop_node_admin_state", "The operator's intent for the node, one series per state; the current "
              "one is 1.", with(l, "state", std::string(to_string(a))), value_of(n.admin == a));
  out.gauge("galeratop_node_weight", "The node's weight; 0 takes no new connections.", l, n.weight);
  out.gauge("galeratop_node_current_connections", "Client connections the balancer holds to the node now.", l,
            n.connections);
  out.counter("galeratop_node_connections_total", "Client connections established to the node.", l,
              static_cast<double>(n.connections_total));
  out.counter("galeratop_node_bytes_in_total", "Bytes relayed from clients to the node.", l,
              static_cast<double>(n.bytes_in));
  out.counter("galeratop_node_bytes_out_total", "Bytes relayed from the node to clients.", l,
              static_cast<double>(n.bytes_out));
  out.counter("galeratop_node_connect_errors_total", "Connects to the node that failed or timed out.", l,
              static_cast<double>(n.connect_errors));
  query_families(out, n, l);
  if (n.status)
    if (auto ns = n.status->raw.find("wsrep_flow_control_paused_ns"); ns != n.status->raw.end())
      if (auto v = parse_status_value(ns->second))
        out.counter("galeratop_node_flow_control_paused_seconds_total",
                    "Time replication was paused by flow control (wsrep_flow_control_paused_ns in seconds).", l,
                    *v / 1e9);
  out.counter("galeratop_monitor_errors_total", "Monitor checks of the node that failed.", l,
              static_cast<double>(n.monitor_errors));

  MetricFamily& poll = out.get("galeratop_monitor_poll_seconds",
                               "How long the monitor's status query of the node took.", MetricType::Histogram);
  ClientMetric& m = family_set::add(poll, l);
  m.histogram.sample_count = n.poll.count;
  m.histogram.sample_sum = n.poll.sum;
  for (std::size_t i = 0; i < poll_histogram::bounds.size(); ++i)
    m.histogram.bucket.push_back({n.poll.cumulative[i], poll_histogram::bounds[i]});
  m.histogram.bucket.push_back({n.poll.count, std::numeric_limits<double>::infinity()});
}

// Per listener: a balance listener spreads its sessions, a writer listener should hold them on one node.
void listener_families(family_set& out, const snapshot& s) {
  for (const listener_snapshot& l : s.listeners) {
    // Every configured node, 0 included, so that a series does not vanish when a node's last session ends.
    for (const node_snapshot& n : s.nodes) {
      auto it = std::ranges::find_if(l.connections, [&](const auto& c) { return c.first == n.name; });
      out.gauge("galeratop_listener_current_connections", "Client connections the balancer holds now, by the "
                "listener they came in through and the node they are relayed to.",
                {{"listener", l.name}, {"role", l.role}, {"node", n.name}, {"address", n.address}},
                it == l.connections.end() ? 0 : it->second);
    }
    out.counter("galeratop_listener_accepted_total", "Client connections the listener accepted.",
                {{"listener", l.name}, {"role", l.role}}, static_cast<double>(l.accepted_total));
  }
}

// Only with a writer listener: without one there is no writer to agree on or to alert about.
void writer_families(family_set& out, const snapshot& s, const writer_snapshot& w) {
  for (const node_snapshot& n : s.nodes)
    out.gauge("galeratop_node_writer", "Whether writer listeners send their sessions to the node now (1) or not "
              "(0).", node_labels(n), value_of(n.writer));
  out.gauge("galeratop_writer_epoch", "The epoch of the writer row (galeratop.writer) this agent follows; it rises "
            "by one at each change of writer. 0 = no row.", {}, static_cast<double>(w.epoch));
  out.counter("galeratop_writer_switches_total", "Times this agent moved its writer listeners from one node to "
              "another.", {}, static_cast<double>(w.switches_total));
  out.gauge("galeratop_writer_known", "Whether writer listeners have a node to send sessions to now (1) or not (0).",
            {}, value_of(!w.node.empty()));
  out.gauge("galeratop_writer_row_readable", "Whether the latest read of galeratop.writer, the row the agents of "
            "the group agree on the writer through, succeeded (1) or not (0).", {}, value_of(w.readable));
  out.gauge("galeratop_writer_waiting_clients", "Writer-listener clients waiting for a settled writer now.", {},
            static_cast<double>(w.waiting));
  out.gauge("galeratop_writer_agents_disagreeing", "Other agents of the group that follow another writer or epoch "
            "than this agent (after a few seconds to catch up with a change).", {},
            static_cast<double>(w.agents_disagreeing));
}
}  // namespace

std::span<const std::string_view> exported_wsrep_variables() { return exported_wsrep; }

std::vector<MetricFamily> metric_families(const snapshot& s) {
  family_set out;
  out.gauge("galeratop_build_info", "galeratopd's version; always 1.", {{"version", s.version}}, 1);
  out.gauge("galeratop_relay_backend_info",
            "What relays established sessions: io_uring, or epoll where io_uring is refused; always 1.",
            {{"backend", s.frontend.io_backend}}, 1);
  for (const node_snapshot& n : s.nodes) wsrep_families(out, n);
  for (const node_snapshot& n : s.nodes) balancer_families(out, n);

  out.gauge("galeratop_frontend_current_connections", "Client connections open now, connecting ones included.", {},
            static_cast<double>(s.frontend.current));
  out.counter("galeratop_frontend_connections_total", "Client connections accepted.", {},
              static_cast<double>(s.frontend.accepted_total));
  constexpr std::string_view rejected_help =
      "Clients sent a galeratop error instead of a greeting: ERR 1047 when no node could take them (no_node), "
      "ERR 1040 at max_connections or when out of descriptors (max_connections).";
  out.counter("galeratop_frontend_rejected_total", rejected_help, {{"reason", "no_node"}},
              static_cast<double>(s.frontend.rejected_no_node));
  out.counter("galeratop_frontend_rejected_total", rejected_help, {{"reason", "max_connections"}},
              static_cast<double>(s.frontend.rejected_limit));
  out.gauge("galeratop_frontend_max_connections", "Client sessions held at once before clients get ERR 1040.", {},
            static_cast<double>(s.frontend.max_connections));
  out.gauge("galeratop_frontend_waiting",
            "Clients accepted and not greeted yet because no node can take them now ([balancer] hold).", {},
            static_cast<double>(s.frontend.waiting));
  constexpr std::string_view waits_help =
      "Clients held for want of a node, by how the wait ended: served by a node, refused with ERR 1047 (at the "
      "hold's end, or at once past hold_limit), or abandoned by the client.";
  for (const auto& [outcome, n] : {std::pair{"served", s.frontend.waits_served},
                                   {"refused", s.frontend.waits_refused},
                                   {"abandoned", s.frontend.waits_abandoned}})
    out.counter("galeratop_frontend_waits_total", waits_help, {{"outcome", outcome}}, static_cast<double>(n));
  out.gauge("galeratop_frontend_wait_longest_seconds", "The longest wait of a held client since galeratopd started.",
            {}, s.frontend.longest_wait_seconds);

  listener_families(out, s);
  if (s.writer) writer_families(out, s, *s.writer);

  // Only when intents are shared: a single agent keeping them locally has nothing to alert on.
  if (s.intents.shared) {
    out.gauge("galeratop_intents_shared_up", "Whether the last read of galeratop.intents, where the agents of a group "
              "share drain, maint and weight, succeeded (1) or not (0).", {{"group", s.intents.group}},
              value_of(s.intents.available));
    out.gauge("galeratop_intents_pending", "Intents changed on this agent while the cluster could not be written, "
              "not shared with the other agents yet.", {{"group", s.intents.group}},
              static_cast<double>(s.intents.pending));
  }

  out.gauge("galeratop_cluster_size", "Members of the cluster's Primary component (wsrep_cluster_size); 0 when no "
            "node is reachable.", {}, s.cluster.size);
  out.gauge("galeratop_cluster_partitions", "Distinct cluster views among the reachable nodes: 1 when healthy, more "
            "when split, 0 when no node is reachable.", {}, static_cast<double>(s.cluster.partitions.size()));
  out.gauge("galeratop_cluster_primary", "Whether a Primary component is seen (1) or not (0).", {},
            value_of(s.cluster.status == "Primary"));

  // Declared even when empty, so that its HELP is always there and absent() works in alert rules.
  out.get("galeratop_advisory", "An advisory in force, one series per node concerned (node=\"\" when cluster-wide); "
          "see galeratopd(8) for each id.", MetricType::Gauge);
  std::set<std::pair<std::string, std::string>> seen;  // one series per id and node, however advisories overlap
  for (const advisory& a : s.advisories) {
    const std::string sev(to_string(a.severity));
    const std::vector<std::string> cluster_wide{""};
    for (const std::string& node : a.nodes.empty() ? cluster_wide : a.nodes)
      if (seen.emplace(a.id, node).second)
        out.gauge("galeratop_advisory", "", {{"id", a.id}, {"severity", sev}, {"node", node}}, 1);
  }
  out.get("galeratop_bootstrap_candidate", "The node to bootstrap when every node is down (1), from the highest "
          "seqno galeratopd saw in the last Primary component.", MetricType::Gauge);
  if (s.bootstrap)
    out.gauge("galeratop_bootstrap_candidate", "", {{"node", s.bootstrap->node}, {"address", s.bootstrap->address}},
              1);
  return out.take();
}

}  // namespace galeratop
