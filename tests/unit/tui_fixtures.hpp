#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace galeratop::test {

/// A status object as galeratopd sends it: three Synced nodes with `conns` connections each
/// (node2's may differ), one advisory.
inline nlohmann::json three_node_status(int c1 = 4, int c2 = 4, int c3 = 4) {
  using json = nlohmann::json;
  auto node = [](std::string name, int port, int conns, std::int64_t committed) {
    return json{{"name", name},
                {"address", "127.0.0.1:" + std::to_string(port)},
                {"state", "synced"},
                {"admin", "ready"},
                {"eligible", true},
                {"weight", 1},
                {"connections", conns},
                {"connections_total", 100},
                {"bytes_in", 1000},
                {"bytes_out", 5000},
                {"drain", nullptr},
                {"monitor", {{"up", true}, {"latency_ms", 0.4}}},
                {"wsrep",
                 {{"last_committed", committed}, {"local_recv_queue", 0.0}, {"local_send_queue", 0.0},
                  {"flow_control_paused", 0.0}}}};
  };
  return {{"version", "0.1.0"},
          {"uptime_seconds", 3725.0},
          {"cluster", {{"name", "prod"}, {"status", "Primary"}, {"size", 3}, {"conf_id", 9}, {"partitions", {1}}}},
          {"frontend", {{"listen", "127.0.0.1:3306"}, {"current", c1 + c2 + c3}, {"accepted_total", 300}, {"rejected_total", 0}}},
          {"nodes", {node("galera-db-01", 3311, c1, 500), node("galera-db-02", 3312, c2, 498), node("galera-db-03", 3313, c3, 500)}},
          {"advisories", {{{"id", "donor_serving"}, {"severity", "warning"}, {"nodes", {"galera-db-02"}}, {"message", "a donor serves"}}}},
          {"bootstrap_candidate", nullptr}};
}

}  // namespace galeratop::test
