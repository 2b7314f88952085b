#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cluster/snapshot_json.hpp"
#include "tests/unit/agent/cluster/model_fixtures.hpp"
#include "tui/screen_layout.hpp"

namespace galeratop::test {

/// When the fixtures' snapshots are taken.
inline const std::chrono::system_clock::time_point status_time{std::chrono::seconds(1'795'000'000)};

/// A node as galeratopd publishes it: a Synced member of `prod` with `connections` sessions.
inline node_snapshot published_node(std::string name, int port, std::uint32_t connections, std::int64_t committed) {
  node_snapshot n = member({.name = name, .address = "127.0.0.1:" + std::to_string(port), .seqno = committed});
  n.weight = 1;
  n.connections = connections;
  n.connections_total = 100;
  n.bytes_in = 1000;
  n.bytes_out = 5000;
  n.check_latency = std::chrono::microseconds(400);
  for (const char* key : {"wsrep_local_recv_queue", "wsrep_local_send_queue"}) n.status->raw[key] = "0";
  return n;
}

/// A snapshot of a healthy 3-node cluster `prod` with the given connections.
inline snapshot cluster_snapshot(std::vector<node_snapshot> nodes, std::uint64_t conf_id, std::uint64_t accepted) {
  snapshot s;
  s.version = "0.1.0";
  s.taken_at = status_time;
  s.frontend.listen = "127.0.0.1:3306";
  s.frontend.started_at = status_time - std::chrono::seconds(3725);
  s.frontend.accepted_total = accepted;
  for (const node_snapshot& n : nodes) s.frontend.current += n.connections;
  partition p{"b1b1b1b1-0000-11ee-8000-000000000001", conf_id, "Primary", 3, {}, {}};
  for (const node_snapshot& n : nodes) p.nodes.push_back(n.name);
  s.cluster = {"prod", p.uuid, "Primary", 3, conf_id, {p}};
  s.nodes = std::move(nodes);
  return s;
}

/// The status object, written by galeratopd's own JSON writer: three Synced nodes with
/// `c1`, `c2`, `c3` connections (galera-db-02 two commits behind), one advisory.
inline nlohmann::json three_node_status(std::uint32_t c1 = 4, std::uint32_t c2 = 4, std::uint32_t c3 = 4) {
  snapshot s = cluster_snapshot({published_node("galera-db-01", 3311, c1, 500), published_node("galera-db-02", 3312, c2, 498),
                                 published_node("galera-db-03", 3313, c3, 500)},
                                9, 300);
  s.advisories.push_back({"donor_serving", severity::warning, {"galera-db-02"}, "a donor serves"});
  return to_json(s);
}

/// Three Synced nodes behind two listeners, app (balance, 127.0.0.1:3306) and rw (writer,
/// 127.0.0.1:3307): galera-db-02 is the writer at epoch 7, set by agent-a, and one other agent
/// (agent-b) follows it; galera-db-03 has writer_priority 0. Connections 6, 8 (2 app + 6 rw), 4.
inline nlohmann::json writer_status() {
  snapshot s = cluster_snapshot({published_node("galera-db-01", 3311, 6, 500), published_node("galera-db-02", 3312, 8, 500),
                                 published_node("galera-db-03", 3313, 4, 500)},
                                9, 300);
  s.frontend.listen = "127.0.0.1:3306 (app balance), 127.0.0.1:3307 (rw writer)";
  s.listeners = {{"app", "balance", "127.0.0.1:3306", 260, {{"galera-db-01", 6}, {"galera-db-02", 2}, {"galera-db-03", 4}}},
                 {"rw", "writer", "127.0.0.1:3307", 40, {{"galera-db-02", 6}}}};
  s.nodes[1].writer = true;
  s.nodes[2].writer_priority = 0;
  writer_snapshot w;
  w.node = "galera-db-02";
  w.address = w.row_node = "127.0.0.1:3312";
  w.epoch = 7;
  w.changed_by = "agent-a";
  w.reason = "galera-db-01 is being put in drain";
  w.row_age_seconds = 302;
  w.readable = true;
  w.why = "epoch 7";
  w.switches_total = 2;
  w.agents = {{"agent-b", "127.0.0.1:3312", 7, 1.5, true}};
  s.writer = w;
  return to_json(s);
}

/// A screen line's text, its attributes dropped.
inline std::string text_of(const screen_line& l) {
  std::string s;
  for (const span& sp : l) s += sp.text;
  return s;
}

/// The whole screen laid out at `w` x `h`, as text lines.
inline std::vector<std::string> render(const nlohmann::json& status, const view_state& v, int w, int h) {
  std::vector<std::string> out;
  for (const auto& l : layout_screen(status, v, w, h, screen_clock::time_point{}, "0.1.0")) out.push_back(text_of(l));
  return out;
}

/// The first line that contains `what`; null when none does.
inline const std::string* line_with(const std::vector<std::string>& lines, std::string_view what) {
  for (const auto& l : lines)
    if (l.find(what) != std::string::npos) return &l;
  return nullptr;
}

}  // namespace galeratop::test
