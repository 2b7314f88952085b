#include <catch2/catch.hpp>

#include "tests/unit/tui/tui_fixtures.hpp"
#include "tui/writer_text.hpp"

using namespace galeratop;
using json = nlohmann::json;

TEST_CASE("the answer to writer says the new writer, its epoch and the one before") {
  CHECK(writer_answer_text({{"ok", true},
                            {"writer", {{"node", "node2"}, {"address", "127.0.0.1:3312"}, {"epoch", 8}, {"previous", "node1"}}},
                            {"changed", true}}) == "writer: node2 (epoch 8), was node1");
  CHECK(writer_answer_text({{"ok", true},
                            {"writer", {{"node", "node2"}, {"address", "127.0.0.1:3312"}, {"epoch", 1}, {"previous", nullptr}}},
                            {"changed", true}}) == "writer: node2 (epoch 1), was none");
  CHECK(writer_answer_text({{"ok", true},
                            {"writer", {{"node", "node2"}, {"address", "127.0.0.1:3312"}, {"epoch", 8}, {"previous", "node2"}}},
                            {"changed", false}}) == "writer: node2 (epoch 8), unchanged");
  // "changed" inside "writer" is read too.
  CHECK(writer_answer_text({{"ok", true},
                            {"writer", {{"node", "n2"}, {"epoch", 3}, {"previous", "n1"}, {"changed", true}}}}) ==
        "writer: n2 (epoch 3), was n1");
}

TEST_CASE("writer --wait ends when the node writes and no writer-listener session is left elsewhere") {
  json s = test::writer_status();
  auto p = writer_wait_progress(s, "galera-db-02", "127.0.0.1:3312", 7);
  CHECK(p.state == writer_wait::settled);
  CHECK(p.text == "galera-db-02 is the writer (epoch 7), settled");

  s["writer"]["settled"] = false;
  s["writer"]["waiting"] = 2;
  s["listeners"][1]["connections"] = {{"galera-db-01", 3}, {"galera-db-02", 1}};
  p = writer_wait_progress(s, "galera-db-02", "127.0.0.1:3312", 7);
  CHECK(p.state == writer_wait::switching);
  CHECK(p.text == "writer galera-db-02, switching, 3 writer-listener session(s) left on other nodes, 2 client(s) waiting");

  // The agent has not followed the new row yet: still the old writer, same epoch asked for.
  p = writer_wait_progress(test::writer_status(), "galera-db-01", "127.0.0.1:3311", 7);
  CHECK(p.state == writer_wait::switching);
  CHECK(p.text == "writer still galera-db-02, 6 writer-listener session(s) left on other nodes");

  s = test::writer_status();
  s["writer"]["node"] = nullptr;
  s["writer"]["why"] = "waiting for galera-db-01 to be Synced";
  p = writer_wait_progress(s, "galera-db-01", "127.0.0.1:3311", 7);
  CHECK(p.state == writer_wait::switching);
  CHECK(p.text == "no writer yet (waiting for galera-db-01 to be Synced), 6 writer-listener session(s) left on other "
                  "nodes");
}

TEST_CASE("writer --wait gives up when the writer moved past the epoch to another node, or the listener went") {
  json s = test::writer_status();  // galera-db-02 at epoch 7
  auto p = writer_wait_progress(s, "galera-db-01", "127.0.0.1:3311", 6);
  CHECK(p.state == writer_wait::moved_on);
  CHECK(p.text == "the writer moved on to galera-db-02 (epoch 7): galera-db-01 is being put in drain");
  s["writer"] = nullptr;
  CHECK(writer_wait_progress(s, "galera-db-01", "127.0.0.1:3311", 6).state == writer_wait::no_writer_listener);
}

TEST_CASE("a listener's sessions are listed in the nodes' order, not the JSON object's") {
  const json s = {{"nodes", {{{"name", "zeta"}, {"address", "a:1"}}, {{"name", "alpha"}, {"address", "a:2"}}}},
                  {"listeners", {{{"name", "rw"}, {"role", "writer"}, {"connections", {{"alpha", 2}, {"zeta", 5}, {"gone", 1}}}}}},
                  {"writer", nullptr}};
  const auto c = listener_connections(s, s["listeners"][0]);
  REQUIRE(c.size() == 3);
  CHECK(c[0] == std::pair<std::string, std::uint64_t>{"zeta", 5});
  CHECK(c[1] == std::pair<std::string, std::uint64_t>{"alpha", 2});
  CHECK(c[2].first == "gone");  // no longer configured: still shown, last
  CHECK(shows_listeners(s));    // a writer listener, even alone
  CHECK(node_name_at(s, "a:2") == "alpha");
  CHECK(node_name_at(s, "b:9") == "b:9");
  CHECK(node_name_at(s, "") == "none");
  CHECK_FALSE(writer_of(s));
}

TEST_CASE("the writer text of a status") {
  const json s = test::writer_status();
  CHECK(writer_text(s["writer"]) == "galera-db-02 (epoch 7, settled) by agent-a 5m02s ago: galera-db-01 is being put in drain");
  CHECK(disagreeing_agents(s).empty());
  json d = s;
  d["writer"]["agents"][0]["agrees"] = false;
  d["writer"]["agents"][0]["epoch"] = 6;
  d["writer"]["agents"][0]["node"] = "127.0.0.1:3311";
  CHECK(disagreeing_agents(d) == std::vector<std::string>{"agent-b follows galera-db-01 at epoch 6"});
}
