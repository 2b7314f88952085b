#include "agent/cluster/snapshot_json.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <optional>

namespace galeratop {
namespace {
using json = nlohmann::json;

json iso_time(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

json to_json(const partition& p) {
  return {{"uuid", p.uuid},       {"conf_id", p.conf_id}, {"status", p.status},
          {"size", p.size},       {"members", p.members}, {"nodes", p.nodes}};
}

json to_json(const node_snapshot& n, std::chrono::system_clock::time_point now) {
  json j = {{"name", n.name},
            {"address", n.address},
            {"state", to_string(n.state)},
            {"admin", to_string(n.admin)},
            {"up", n.up},
            {"suspect", n.suspect},
            {"suspicions_total", n.suspicions_total},
            {"eligible", n.eligible},
            {"weight", n.weight},
            {"writer_priority", n.writer_priority},
            {"proxy_protocol", n.proxy_protocol},
            {"writer", n.writer},
            {"reason", n.reason},
            {"connections", n.connections},
            {"connections_total", n.connections_total},
            {"connect_errors", n.connect_errors},
            {"bytes_in", n.bytes_in},
            {"bytes_out", n.bytes_out},
            {"queries_total", n.queries_total},
            {"queries_per_second", n.queries_per_second},
            {"query_p99_ms", n.query_p99_seconds ? json(*n.query_p99_seconds * 1000) : json(nullptr)},
            {"query_p50_ms", n.query_p50_seconds ? json(*n.query_p50_seconds * 1000) : json(nullptr)},
            {"in_transaction", n.in_transaction},
            {"opaque", n.opaque},
            {"opaque_total", n.opaque_total},
            {"safe_closes_total", n.safe_closes_total},
            {"sessions_cut_total", n.sessions_cut_total},
            {"monitor",
             {{"up", n.monitor_up},
              {"error", n.monitor_error},
              {"errors_total", n.monitor_errors},
              {"latency_ms", std::chrono::duration<double, std::milli>(n.check_latency).count()}}},
            {"wsrep_node_name", n.node_name}};
  j["admin_since"] = n.admin_since.time_since_epoch().count() == 0 ? json(nullptr) : iso_time(n.admin_since);
  j["intent"] = {{"version", n.intent_version},
                 {"pending", n.intent_pending},
                 {"by", n.intent_by.empty() ? json(nullptr) : json(n.intent_by)},
                 {"changed", n.intent_changed.time_since_epoch().count() == 0 ? json(nullptr) : iso_time(n.intent_changed)}};
  json& recent = j["monitor"]["recent_errors"] = json::array();
  for (const monitor_errors::entry& e : n.recent_monitor_errors)
    recent.push_back({{"error", e.error}, {"count", e.count}, {"first", iso_time(e.first)}, {"last", iso_time(e.last)}});
  // Drain progress: what is left on a node taken out of rotation, and for how long it has been out.
  if (n.admin != admin_state::ready)
    j["drain"] = {{"remaining", n.connections},
                  {"since", iso_time(n.admin_since)},
                  {"elapsed_seconds",
                   std::chrono::duration<double>(now - n.admin_since).count()}};
  else
    j["drain"] = nullptr;
  if (n.status) {
    const wsrep_status& st = *n.status;
    j["wsrep"] = {{"cluster_status", st.cluster_status},
                  {"cluster_state_uuid", st.cluster_state_uuid},
                  {"cluster_conf_id", st.cluster_conf_id},
                  {"cluster_size", st.cluster_size},
                  {"local_state", st.local_state},
                  {"local_state_comment", st.local_state_comment},
                  {"ready", st.ready},
                  {"connected", st.connected},
                  {"last_committed", st.last_committed}};
    // What the live screen shows per node, as numbers (absent when the server does not report it).
    // The counters give the screen its rates (certification failures, BF aborts, commits per second).
    for (const char* key : {"wsrep_local_recv_queue", "wsrep_local_send_queue", "wsrep_flow_control_paused",
                            "wsrep_local_cert_failures", "wsrep_local_bf_aborts", "wsrep_local_commits"})
      if (auto it = st.raw.find(key); it != st.raw.end())
        if (auto v = parse_status_value(it->second)) j["wsrep"][std::string(key).substr(6)] = *v;
  } else {
    j["wsrep"] = nullptr;
  }
  return j;
}
json to_json(const listener_snapshot& l) {
  json connections = json::object();
  for (const auto& [node, count] : l.connections) connections[node] = count;
  return {{"name", l.name},
          {"role", l.role},
          {"address", l.address},
          {"accepted_total", l.accepted_total},
          {"connections", connections}};
}

json to_json(const writer_snapshot& w) {
  json agents = json::array();
  for (const writer_agent_snapshot& a : w.agents)
    agents.push_back({{"agent", a.agent},
                      {"node", a.node},
                      {"epoch", a.epoch},
                      {"age_seconds", a.age_seconds},
                      {"agrees", a.agrees}});
  return {{"node", w.node.empty() ? json(nullptr) : json(w.node)},
          {"address", w.address.empty() ? json(nullptr) : json(w.address)},
          {"epoch", w.epoch},
          {"row",
           {{"node", w.row_node.empty() ? json(nullptr) : json(w.row_node)},
            {"epoch", w.epoch},
            {"changed_by", w.changed_by},
            {"reason", w.reason},
            {"age_seconds", w.row_age_seconds},
            {"readable", w.readable},
            {"error", w.error}}},
          {"why", w.why},
          {"settled", w.settled},
          {"waiting", w.waiting},
          {"switches_total", w.switches_total},
          {"failback", w.failback},
          {"agents", agents},
          {"agents_disagreeing", w.agents_disagreeing}};
}
}  // namespace

json to_json(const event& e) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.at.time_since_epoch()).count() % 1000;
  return {{"seq", e.seq},
          {"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(e.at)), ms)},
          {"kind", to_string(e.kind)},
          {"node", e.node},
          {"message", e.message},
          {"who", e.who}};
}

json to_json(const snapshot& s) {
  json cluster = {{"name", s.cluster.name},
                  {"uuid", s.cluster.uuid},
                  {"status", s.cluster.status},
                  {"size", s.cluster.size},
                  {"conf_id", s.cluster.conf_id},
                  {"partitions", json::array()}};
  for (const partition& p : s.cluster.partitions) cluster["partitions"].push_back(to_json(p));
  json nodes = json::array();
  for (const node_snapshot& n : s.nodes) nodes.push_back(to_json(n, s.taken_at));
  json advisories = json::array();
  for (const advisory& a : s.advisories)
    advisories.push_back({{"id", a.id}, {"severity", to_string(a.severity)}, {"nodes", a.nodes}, {"message", a.message}});
  json bootstrap = nullptr;
  if (s.bootstrap)
    bootstrap = {{"node", s.bootstrap->node},         {"address", s.bootstrap->address},
                 {"seqno", s.bootstrap->seqno},       {"uuid", s.bootstrap->uuid},
                 {"evidence", s.bootstrap->evidence}, {"command", s.bootstrap->command}};
  json listeners = json::array();
  for (const listener_snapshot& l : s.listeners) listeners.push_back(to_json(l));
  json events = json::array();
  for (const event& e : s.events) events.push_back(to_json(e));
  return {{"version", s.version},
          {"time", iso_time(s.taken_at)},
          {"uptime_seconds", std::chrono::duration<double>(s.taken_at - s.frontend.started_at).count()},
          {"cluster", cluster},
          {"nodes", nodes},
          {"advisories", advisories},
          {"events", events},
          {"bootstrap_candidate", bootstrap},
          {"frontend",
           {{"listen", s.frontend.listen},
            {"current", s.frontend.current},
            {"accepted_total", s.frontend.accepted_total},
            {"rejected_total", s.frontend.rejected_total},
            {"rejected_no_node_total", s.frontend.rejected_no_node},
            {"rejected_max_connections_total", s.frontend.rejected_limit},
            {"max_connections", s.frontend.max_connections},
            {"waiting", s.frontend.waiting},
            {"waits_served_total", s.frontend.waits_served},
            {"waits_refused_total", s.frontend.waits_refused},
            {"waits_abandoned_total", s.frontend.waits_abandoned},
            {"longest_wait_seconds", s.frontend.longest_wait_seconds},
            {"hold_seconds", s.frontend.hold_seconds},
            {"hold_limit", s.frontend.hold_limit},
            {"io_backend", s.frontend.io_backend},
            {"io_backend_why", s.frontend.io_backend_why}}},
          {"listeners", listeners},
          {"writer", s.writer ? to_json(*s.writer) : json(nullptr)},
          {"intents",
           {{"shared", s.intents.shared},
            {"group", s.intents.group},
            {"available", s.intents.available},
            {"error", s.intents.error},
            {"from", s.intents.from},
            {"pending", s.intents.pending}}}};
}

}  // namespace galeratop
