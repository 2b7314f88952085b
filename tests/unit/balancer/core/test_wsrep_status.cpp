#include <catch2/catch.hpp>

#include "balancer/core/wsrep_status.hpp"

using namespace galeratop;

TEST_CASE("wsrep status rows become typed fields, whatever the name's case") {
  std::vector<std::pair<std::string, std::string>> rows{
      {"WSREP_LOCAL_STATE", "4"},          {"wsrep_local_state_comment", "Synced"},
      {"wsrep_cluster_status", "Primary"}, {"wsrep_ready", "ON"},
      {"wsrep_connected", "ON"},           {"wsrep_cluster_conf_id", "12"},
      {"wsrep_cluster_size", "3"},         {"wsrep_last_committed", "4711"},
      {"wsrep_evs_state", "OPERATIONAL"},  {"wsrep_incoming_addresses", "127.0.0.1:3311,127.0.0.1:3312"},
  };
  const wsrep_status s = parse_wsrep_status(rows);
  CHECK(s.local_state == 4);
  CHECK(s.local_state_comment == "Synced");
  CHECK(s.cluster_status == "Primary");
  CHECK(s.ready);
  CHECK(s.connected);
  CHECK(s.cluster_conf_id == 12);
  CHECK(s.cluster_size == 3);
  CHECK(s.last_committed == 4711);
  CHECK(s.evs_state == "OPERATIONAL");
  CHECK(s.incoming_addresses == "127.0.0.1:3311,127.0.0.1:3312");
  CHECK(s.raw.at("wsrep_local_state") == "4");
}

TEST_CASE("missing or malformed wsrep values keep safe defaults") {
  std::vector<std::pair<std::string, std::string>> rows{{"wsrep_local_state", "x4"}, {"wsrep_ready", "OFF"},
                                                        {"wsrep_cluster_conf_id", "-1"}};
  const wsrep_status s = parse_wsrep_status(rows);
  CHECK(s.local_state == 0);
  CHECK_FALSE(s.ready);
  CHECK_FALSE(s.connected);
  CHECK(s.cluster_conf_id == 0);
  CHECK(s.last_committed == -1);
  CHECK(s.cluster_status.empty());
}

TEST_CASE("the status query asks for each monitored variable once, by name") {
  const std::string& q = wsrep_status_query();
  CHECK(q.starts_with("SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_"));
  CHECK(q.ends_with("')"));
  for (std::string_view name : monitored_wsrep_variables()) {
    INFO(name);
    const std::string quoted = "'" + std::string(name) + "'";
    CHECK(q.find(quoted) != std::string::npos);
    CHECK(q.find(quoted) == q.rfind(quoted));
  }
}
