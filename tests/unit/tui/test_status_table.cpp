#include <catch2/catch.hpp>

#include "tests/unit/tui/tui_fixtures.hpp"
#include "tui/field_text.hpp"
#include "tui/status_table.hpp"

using json = nlohmann::json;

namespace {
using namespace galeratop;

node_snapshot node(std::string name, int port, galera_state state, admin_state admin, bool eligible,
                   std::uint32_t conns) {
  node_snapshot n = test::published_node(std::move(name), port, conns, 500);
  n.state = state;
  n.admin = admin;
  n.eligible = eligible;
  if (admin != admin_state::ready) n.admin_since = test::status_time - std::chrono::milliseconds(75'400);
  return n;
}

json status() {
  snapshot s = test::cluster_snapshot({node("galera-db-01", 3311, galera_state::synced, admin_state::ready, true, 6),
                                       node("db2", 3312, galera_state::synced, admin_state::drain, false, 2),
                                       node("db3", 3313, galera_state::donor, admin_state::ready, false, 0)},
                                      12, 120);
  s.nodes[0].queries_per_second = 1234.4;
  s.nodes[0].query_p99_seconds = 0.0042;
  s.nodes[1].queries_per_second = 3.3;
  s.nodes[1].query_p99_seconds = 0.0008;  // db3 had no query in the window: no p99
  s.advisories.push_back({"donor_serving", severity::warning, {"db3"}, "db3 is a donor"});
  return to_json(s);
}
}  // namespace

TEST_CASE("the status table aligns its columns and shows shares, query figures and drain progress") {
  const std::string text = galeratop::render_status_table(status());
  CHECK(text ==
        "cluster prod Primary size 3 conf_id 12 partitions 1   listener 127.0.0.1:3306: 8 open, 120 accepted, 0 "
        "rejected\n"
        "NODE          ADDRESS         STATE   ADMIN  ELIGIBLE  CONN  SHARE   QPS  P99ms  DRAIN\n"
        "galera-db-01  127.0.0.1:3311  synced  ready  yes          6    75%  1234    4.2\n"
        "db2           127.0.0.1:3312  synced  drain  no           2    25%   3.3    0.8  2 left, 75s\n"
        "db3           127.0.0.1:3313  donor   ready  no           0     0%   0.0      -\n"
        "advisories:\n"
        "  warning  donor_serving: db3 is a donor\n");
}

TEST_CASE("with no connection the share is a dash, and a down cluster names its bootstrap node") {
  json s = status();
  for (json& n : s["nodes"]) n["connections"] = 0, n["state"] = "down";
  s["advisories"] = json::array();
  s["bootstrap_candidate"] = {{"node", "db2"}, {"address", "127.0.0.1:3312"}, {"seqno", 4411},
                              {"evidence", "highest seqno"}, {"command", "galera_new_cluster"}};
  const std::string text = galeratop::render_status_table(s);
  CHECK(text.find("galera-db-01  127.0.0.1:3311  down   ready  yes          0      -") != std::string::npos);
  CHECK(text.find("advisories: none\n") != std::string::npos);
  CHECK(text.find("bootstrap: db2 (127.0.0.1:3312), seqno 4411: highest seqno\n  galera_new_cluster\n") !=
        std::string::npos);
}

TEST_CASE("the status table says whether intents reach the other agents, and what is held back") {
  json s = status();
  s["intents"] = {{"shared", true}, {"group", "web"}, {"available", true}, {"error", ""}, {"from", "10.0.0.1:3306"},
                  {"pending", 0}};
  CHECK(galeratop::render_status_table(s).find("intents: shared as group \"web\" (read from 10.0.0.1:3306)\n") !=
        std::string::npos);
  s["intents"]["available"] = false;
  s["intents"]["error"] = "no node is synced and up";
  s["intents"]["pending"] = 2;
  CHECK(galeratop::render_status_table(s).find("intents: NOT SHARED (group \"web\"): no node is synced and up; 2 "
                                               "change(s) held here only, not shared yet\n") != std::string::npos);
  s["intents"]["shared"] = false;  // one agent keeping its intents locally: nothing to say
  CHECK(galeratop::render_status_table(s).find("intents:") == std::string::npos);
}

TEST_CASE("a suspect node shows as suspect, whatever state it last reported") {
  json s = status();
  s["nodes"][0]["suspect"] = true;
  CHECK(galeratop::render_status_table(s).find("galera-db-01  127.0.0.1:3311  suspect  ready") != std::string::npos);
}

TEST_CASE("query figures fit five columns, and an agent that does not give them shows dashes") {
  const auto qps = [](json v) { return galeratop::qps_text({{"queries_per_second", v}}); };
  CHECK(qps(0) == "0.0");
  CHECK(qps(9.94) == "9.9");
  CHECK(qps(12.4) == "12");
  CHECK(qps(99'999.4) == "99999");
  CHECK(qps(123'456.0) == "123k");
  CHECK(galeratop::qps_text(json::object()) == "-");
  const auto p99 = [](json v) { return galeratop::p99_text({{"query_p99_ms", v}}); };
  CHECK(p99(0.495) == "0.5");
  CHECK(p99(9.2) == "9.2");
  CHECK(p99(250.0) == "250");
  CHECK(p99(5000.0) == "5000");  // the agent's cap: the highest bucket
  CHECK(p99(nullptr) == "-");    // no query in the window
  CHECK(galeratop::p99_text(json::object()) == "-");
}

TEST_CASE("with a writer listener the table has a WRITER column, a listener table and the writer line") {
  CHECK(galeratop::render_status_table(test::writer_status()) ==
        "cluster prod Primary size 3 conf_id 9 partitions 1   clients: 18 open, 300 accepted, 0 rejected\n"
        "NODE          ADDRESS         STATE   ADMIN  ELIGIBLE  WRITER  CONN  SHARE  QPS  P99ms  DRAIN\n"
        "galera-db-01  127.0.0.1:3311  synced  ready  yes       no         6    33%  0.0      -\n"
        "galera-db-02  127.0.0.1:3312  synced  ready  yes       yes        8    44%  0.0      -\n"
        "galera-db-03  127.0.0.1:3313  synced  ready  yes       never      4    22%  0.0      -\n"
        "LISTENER  ROLE     ADDRESS         OPEN  ACCEPTED  CONNECTIONS\n"
        "app       balance  127.0.0.1:3306    12       260  galera-db-01 6, galera-db-02 2, galera-db-03 4\n"
        "rw        writer   127.0.0.1:3307     6        40  galera-db-02 6\n"
        "writer: galera-db-02 (epoch 7, settled) by agent-a 5m02s ago: galera-db-01 is being put in drain\n"
        "  other agents: 1, all following this writer\n"
        "advisories: none\n");
}

TEST_CASE("the writer line says when there is none and why, a switch under way, and the clients waiting") {
  json s = test::writer_status();
  s["writer"]["node"] = nullptr;
  s["writer"]["address"] = nullptr;
  s["writer"]["why"] = "no node can write: galera-db-02 is down, galera-db-03 has writer_priority 0";
  s["writer"]["waiting"] = 3;
  CHECK(galeratop::render_status_table(s).find(
            "writer: none — no node can write: galera-db-02 is down, galera-db-03 has writer_priority 0; 3 client(s) "
            "waiting\n") != std::string::npos);
  s = test::writer_status();
  s["writer"]["settled"] = false;
  s["writer"]["row"]["changed_by"] = "";
  s["writer"]["row"]["reason"] = "";
  CHECK(galeratop::render_status_table(s).find("writer: galera-db-02 (epoch 7, switching)\n") != std::string::npos);
}

TEST_CASE("agents that follow another writer and an unreadable row are named under the writer line") {
  json s = test::writer_status();
  s["writer"]["agents"].push_back({{"agent", "agent-c"}, {"node", "127.0.0.1:3311"}, {"epoch", 6}, {"age_seconds", 2.0},
                                   {"agrees", false}});
  s["writer"]["agents"].push_back({{"agent", "agent-d"}, {"node", ""}, {"epoch", 7}, {"age_seconds", 2.0},
                                   {"agrees", false}});
  s["writer"]["agents_disagreeing"] = 2;
  s["writer"]["row"]["readable"] = false;
  s["writer"]["row"]["error"] = "ERROR 1047 (08S01): WSREP has not yet prepared node for application use";
  const std::string text = galeratop::render_status_table(s);
  CHECK(text.find("  galeratop.writer NOT READABLE: ERROR 1047 (08S01): WSREP has not yet prepared node for application "
                  "use\n") != std::string::npos);
  CHECK(text.find("  agents DISAGREEING (2 of 3): agent-c follows galera-db-01 at epoch 6; agent-d follows no writer "
                  "at epoch 7\n") != std::string::npos);
}

TEST_CASE("one balance listener is the cluster line's: no listener table, no WRITER column") {
  json s = status();
  s["listeners"] = json::array({{{"name", "default"}, {"role", "balance"}, {"address", "127.0.0.1:3306"},
                                 {"accepted_total", 120}, {"connections", {{"galera-db-01", 6}}}}});
  const std::string text = galeratop::render_status_table(s);
  CHECK(text.find("listener 127.0.0.1:3306: 8 open") != std::string::npos);
  CHECK(text.find("LISTENER") == std::string::npos);
  CHECK(text.find("WRITER") == std::string::npos);
  CHECK(text.find("writer:") == std::string::npos);
  // Two balance listeners get the table, still without a writer.
  s["listeners"].push_back({{"name", "reports"}, {"role", "balance"}, {"address", "127.0.0.1:3316"},
                            {"accepted_total", 3}, {"connections", json::object()}});
  const std::string two = galeratop::render_status_table(s);
  CHECK(two.find("reports   balance  127.0.0.1:3316     0         3  -\n") != std::string::npos);
  CHECK(two.find("clients: 8 open") != std::string::npos);
  CHECK(two.find("WRITER") == std::string::npos);
}
