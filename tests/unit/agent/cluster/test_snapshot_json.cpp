#include <catch2/catch.hpp>

#include "agent/cluster/snapshot_json.hpp"
#include "tests/unit/agent/cluster/model_fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

TEST_CASE("each node of the status JSON has the relay's query and session figures") {
  snapshot s;
  s.nodes = healthy_cluster();
  node_snapshot& n = s.nodes[0];
  n.queries_total = 1200;
  n.queries_per_second = 240.5;
  n.query_p99_seconds = 0.0042;
  n.in_transaction = 3;
  n.opaque = 1;
  n.opaque_total = 2;
  n.safe_closes_total = 9;
  n.sessions_cut_total = 4;
  const auto j = to_json(s);
  const auto& node = j["nodes"][0];
  CHECK(node["queries_total"] == 1200);
  CHECK(node["queries_per_second"] == 240.5);
  CHECK(node["query_p99_ms"].get<double>() == Approx(4.2));
  CHECK(node["in_transaction"] == 3);
  CHECK(node["opaque"] == 1);
  CHECK(node["opaque_total"] == 2);
  CHECK(node["safe_closes_total"] == 9);
  CHECK(node["sessions_cut_total"] == 4);
}

TEST_CASE("without a query in the recent window the node's p99 is null and its rate 0") {
  snapshot s;
  s.nodes = healthy_cluster();
  const auto j = to_json(s);
  for (const auto& node : j["nodes"]) {
    REQUIRE(node.contains("query_p99_ms"));
    CHECK(node["query_p99_ms"].is_null());
    CHECK(node["queries_per_second"] == 0);
    CHECK(node["queries_total"] == 0);
  }
}

TEST_CASE("an event's JSON has its seq, its UTC time to the millisecond, its kind's wire name and who asked") {
  const event e{.seq = 12,
                .at = std::chrono::system_clock::time_point{} + std::chrono::milliseconds(1'796'204'403'007),
                .kind = event_kind::operator_action,
                .node = "node2",
                .message = "admin ready -> drain; 4 connection(s) open",
                .who = "uid 1000 (pid 5834)"};
  CHECK(to_json(e) == nlohmann::json{{"seq", 12},
                                     {"time", "2026-12-02T09:40:03.007Z"},
                                     {"kind", "operator"},
                                     {"node", "node2"},
                                     {"message", "admin ready -> drain; 4 connection(s) open"},
                                     {"who", "uid 1000 (pid 5834)"}});
  snapshot s;
  s.events = {e};
  CHECK(to_json(s).at("events") == nlohmann::json::array({to_json(e)}));
}
