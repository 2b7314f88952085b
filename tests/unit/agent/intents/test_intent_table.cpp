#include <catch2/catch.hpp>

#include "agent/intents/intent_table.hpp"
#include "tests/unit/agent/store/fake_session.hpp"

using namespace galeratop;
using namespace galeratop::test;
using namespace std::chrono_literals;

// galeratop.intents' SQL, run through the store against a fake server: the statements other
// agents and DBAs depend on, and the words of its failures.

namespace {
const auto t0 = std::chrono::system_clock::time_point(1'795'000'000'000ms);

intent_change drain(std::optional<std::uint64_t> expected = {}) {
  return {"10.0.0.1:3306", admin_state::drain, std::nullopt, t0, expected};
}
}  // namespace

TEST_CASE("a node's first shared intent creates galeratop.intents and writes its row at version 1") {
  fake_cluster cluster;
  cluster.on("SELECT", server_error(1049, "Unknown database 'galeratop'"));
  store_session session = cluster.session();
  const intent_write w = session.compare_and_set(fake_nodes(1), intent_compare_and_set("g", drain(), "agent-a"));
  CHECK(w.result == intent_write::kind::written);
  REQUIRE(w.row);
  CHECK(w.row->version == 1);
  CHECK(w.on == "10.0.0.1:3306");
  const auto sql = cluster.sql();
  CHECK(std::ranges::count(sql, "CREATE DATABASE IF NOT EXISTS galeratop") == 1);
  CHECK(cluster.count("CREATE TABLE IF NOT EXISTS galeratop.intents (") == 1);
  CHECK(std::ranges::count(sql, "SELECT node, admin, weight, since_ms, version, changed_by FROM galeratop.intents "
                                "WHERE agent_group = 'g' AND node = '10.0.0.1:3306' FOR UPDATE") == 2);
  CHECK(sql.back() == "COMMIT");
  CHECK(sql[sql.size() - 2] ==
        "INSERT INTO galeratop.intents (agent_group, node, admin, weight, since_ms, version, changed_by) "
        "VALUES ('g', '10.0.0.1:3306', 'drain', NULL, 1795000000000, 1, 'agent-a') ON DUPLICATE KEY UPDATE "
        "admin = VALUES(admin), weight = VALUES(weight), since_ms = VALUES(since_ms), version = VALUES(version), "
        "changed_by = VALUES(changed_by)");
}

TEST_CASE("an intents row this version cannot read fails the change and is never overwritten") {
  fake_cluster cluster;
  cluster.on("SELECT", rows({{"10.0.0.1:3306", "paused", std::nullopt, "0", "3", "agent-b"}}), 3);
  store_session session = cluster.session();
  const intent_write w = session.compare_and_set(fake_nodes(3), intent_compare_and_set("g", drain(3), "agent-a"));
  CHECK(w.result == intent_write::kind::failed);
  CHECK(w.error == "the row in galeratop.intents cannot be read: 10.0.0.1:3306: unknown admin state");
  CHECK(cluster.count("INSERT") == 0);
}

TEST_CASE("a missing intents table reads as an empty one that does not exist yet") {
  fake_cluster cluster;
  fake_session s(cluster, "10.0.0.1:3306");
  cluster.on("SELECT", server_error(1146, "Table 'galeratop.intents' doesn't exist"));
  const intent_read r = read_intents(s, "g");
  CHECK(r.ok);
  CHECK(r.error.empty());
  CHECK_FALSE(r.table_exists);
  CHECK(r.rows.empty());
  CHECK(cluster.sql() == std::vector<std::string>{"SELECT node, admin, weight, since_ms, version, changed_by FROM "
                                                  "galeratop.intents WHERE agent_group = 'g'"});
  // Any other error is one: the caller keeps what it holds.
  cluster.on("SELECT", connection_lost());
  const intent_read lost = read_intents(s, "g");
  CHECK_FALSE(lost.ok);
  CHECK(lost.error == "Lost connection to server during query");
}
