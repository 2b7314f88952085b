#include <catch2/catch.hpp>

#include "agent/writer/writer_table.hpp"
#include "tests/unit/agent/store/fake_session.hpp"

using namespace galeratop;
using namespace galeratop::test;

// galeratop.writer's SQL, run through the store against a fake server: the statements other
// agents and DBAs depend on, and the words of its failures.

TEST_CASE("the first writer chosen creates both writer tables and records epoch 1") {
  fake_cluster cluster;
  cluster.on("SELECT", server_error(1146, "Table 'galeratop.writer' doesn't exist"));
  store_session session = cluster.session();
  const writer_write w = session.compare_and_set(
      fake_nodes(1), writer_compare_and_set("g", {"10.0.0.2:3306", 0, "no writer has been chosen yet"}, "agent-a"));
  CHECK(w.result == writer_write::kind::written);
  REQUIRE(w.row);
  CHECK(w.row->epoch == 1);
  CHECK(w.row->node == "10.0.0.2:3306");
  CHECK(cluster.count("CREATE TABLE IF NOT EXISTS galeratop.writer (") == 1);
  CHECK(cluster.count("CREATE TABLE IF NOT EXISTS galeratop.writer_agents (") == 1);
  const auto sql = cluster.sql();
  CHECK(std::ranges::count(sql, "SELECT node, epoch, changed_by, reason, TIMESTAMPDIFF(MICROSECOND, changed_at, "
                                "NOW(6)) DIV 1000 FROM galeratop.writer WHERE agent_group = 'g' FOR UPDATE") == 2);
  CHECK(sql[sql.size() - 2] ==
        "INSERT INTO galeratop.writer (agent_group, node, epoch, changed_by, reason) VALUES ('g', '10.0.0.2:3306', 1, "
        "'agent-a', 'no writer has been chosen yet') ON DUPLICATE KEY UPDATE node = VALUES(node), "
        "epoch = VALUES(epoch), changed_by = VALUES(changed_by), reason = VALUES(reason)");
  CHECK(sql.back() == "COMMIT");
}

TEST_CASE("a writer's reason longer than its column is cut to 255 characters") {
  fake_cluster cluster;
  store_session session = cluster.session();
  const writer_write w = session.compare_and_set(
      fake_nodes(1), writer_compare_and_set("g", {"10.0.0.2:3306", 0, std::string(300, 'r')}, "agent-a"));
  CHECK(w.result == writer_write::kind::written);
  CHECK(cluster.count("INSERT") == 1);
  CHECK(cluster.sql()[cluster.sql().size() - 2].find("'" + std::string(255, 'r') + "')") != std::string::npos);
  CHECK(cluster.sql()[cluster.sql().size() - 2].find(std::string(256, 'r')) == std::string::npos);
}

TEST_CASE("a writer row this version cannot read fails the change, read or written, in the same words") {
  const mysql_row bad{"10.0.0.2:3306", "0", "agent-b", "", "10"};
  fake_cluster cluster;
  cluster.on("SELECT", rows({bad}), 4);
  store_session session = cluster.session();
  const writer_write w =
      session.compare_and_set(fake_nodes(3), writer_compare_and_set("g", {"10.0.0.3:3306", 0, ""}, "agent-a"));
  CHECK(w.result == writer_write::kind::failed);
  CHECK(w.error == "the row of galeratop.writer cannot be read: node, epoch or age out of range");
  CHECK(cluster.count("INSERT") == 0);
  fake_session s(cluster, "10.0.0.1:3306");
  const writer_read r = read_writer(s, "g");
  CHECK_FALSE(r.ok);
  CHECK(r.error == w.error);
}
