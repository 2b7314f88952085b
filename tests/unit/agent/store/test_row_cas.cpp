#include <catch2/catch.hpp>

#include "agent/store/row_cas.hpp"
#include "tests/unit/agent/store/counter_table.hpp"
#include "tests/unit/agent/store/fake_session.hpp"

using namespace galeratop;
using namespace galeratop::test;

// One attempt of the compare-and-set on one session: what it says to the server, and what it
// makes of the answers. The retries around it are test_store_session.cpp's.

namespace {
using counter_write = row_write<counter>;
using strings = std::vector<std::string>;
}  // namespace

TEST_CASE("the first change of a row creates its table, then asks to run again, once") {
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  cluster.on("SELECT", no_such_table(), 2);
  bool created = false;
  CHECK_FALSE(attempt_row_cas(s, counter_cas({"1", 0}), created));
  CHECK(created);
  CHECK(cluster.sql() == strings{"START TRANSACTION", std::string(select_hits), "ROLLBACK",
                                 std::string(create_counters[0]), std::string(create_counters[1])});
  // A table still missing after it is a failure: the attempt does not create it again.
  const auto again = attempt_row_cas(s, counter_cas({"1", 0}), created);
  REQUIRE(again);
  CHECK(again->result == counter_write::kind::failed);
  CHECK(again->error == "Table 'galeratop.counters' doesn't exist");
  CHECK(cluster.count("CREATE") == 2);
}

TEST_CASE("a table that cannot be created fails the change, naming the table") {
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  cluster.on("SELECT", no_such_table());
  cluster.on("CREATE TABLE", server_error(1142, "CREATE command denied to user 'monitor'@'localhost'"));
  bool created = false;
  const auto w = attempt_row_cas(s, counter_cas({"1", 0}), created);
  REQUIRE(w);
  CHECK(w->result == counter_write::kind::failed);
  CHECK(w->error == "cannot create galeratop.counters: CREATE command denied to user 'monitor'@'localhost'");
}

TEST_CASE("a written row is upserted and committed, in the transaction that locked it") {
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  cluster.on("SELECT", rows({counter_row(4, "old")}));
  bool created = false;
  const auto w = attempt_row_cas(s, counter_cas({"new", 4}), created);
  REQUIRE(w);
  CHECK(w->result == counter_write::kind::written);
  CHECK(w->row == counter{"hits", 5, "new"});
  CHECK(w->error.empty());
  CHECK(cluster.sql() == strings{"START TRANSACTION", std::string(select_hits),
                                 "INSERT INTO galeratop.counters (name, version, value) VALUES ('hits', 5, 'new') "
                                 "ON DUPLICATE KEY UPDATE version = VALUES(version), value = VALUES(value)",
                                 "COMMIT"});
  CHECK_FALSE(created);
}

TEST_CASE("a change the row already holds rolls back and writes nothing") {
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  cluster.on("SELECT", rows({counter_row(4, "same")}));
  bool created = false;
  const auto w = attempt_row_cas(s, counter_cas({"same", 4}), created);
  REQUIRE(w);
  CHECK(w->result == counter_write::kind::unchanged);
  CHECK(w->row == counter{"hits", 4, "same"});
  CHECK(cluster.sql() == strings{"START TRANSACTION", std::string(select_hits), "ROLLBACK"});
}

TEST_CASE("a change based on an older row rolls back, writes nothing and returns the row that won") {
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  cluster.on("SELECT", rows({counter_row(6, "theirs")}));
  bool created = false;
  const auto w = attempt_row_cas(s, counter_cas({"mine", 5}), created);
  REQUIRE(w);
  CHECK(w->result == counter_write::kind::conflict);
  CHECK(w->row == counter{"hits", 6, "theirs"});
  CHECK(cluster.count("INSERT") == 0);
  CHECK(cluster.count("COMMIT") == 0);
  CHECK(cluster.sql().back() == "ROLLBACK");
  // With no row at all, a change based on one conflicts too, and no row wins.
  fake_cluster empty;
  fake_session e(empty, "n1");
  const auto none = attempt_row_cas(e, counter_cas({"mine", 5}), created);
  REQUIRE(none);
  CHECK(none->result == counter_write::kind::conflict);
  CHECK_FALSE(none->row);
}

TEST_CASE("a race lost to another transaction rolls back and asks to run again") {
  // 1213: Galera's certification failure at COMMIT (and InnoDB's deadlock); 1205: the row's lock
  // held by another transaction too long.
  const auto lost = GENERATE(deadlock(), lock_wait_timeout());
  const auto at = GENERATE(as<std::string>{}, "SELECT", "INSERT", "COMMIT");
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  if (at != "SELECT") cluster.on("SELECT", rows({counter_row(4, "old")}));
  cluster.on(at, lost);
  bool created = false;
  CHECK_FALSE(attempt_row_cas(s, counter_cas({"new", 4}), created));
  CHECK(cluster.sql().back() == "ROLLBACK");
  CHECK_FALSE(created);
}

TEST_CASE("a failed statement fails the attempt with the server's words, and is not retried by it") {
  const auto at = GENERATE(as<std::string>{}, "START TRANSACTION", "SELECT", "INSERT", "COMMIT");
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  if (at != "SELECT") cluster.on("SELECT", rows({counter_row(4, "old")}));
  cluster.on(at, connection_lost());
  bool created = false;
  const auto w = attempt_row_cas(s, counter_cas({"new", 4}), created);
  REQUIRE(w);
  CHECK(w->result == counter_write::kind::failed);
  CHECK(w->error == "Lost connection to server during query");
  CHECK_FALSE(w->row);
  CHECK(cluster.sql().back().starts_with(at));  // nothing after it: the caller drops the session
}

TEST_CASE("a row this version cannot read fails the change with the table's words, and rolls back") {
  fake_cluster cluster;
  fake_session s(cluster, "n1");
  cluster.on("SELECT", rows({{"hits", "0", "old"}}));
  bool created = false;
  const auto w = attempt_row_cas(s, counter_cas({"new", 0}), created);
  REQUIRE(w);
  CHECK(w->result == counter_write::kind::failed);
  CHECK(w->error == "the row of galeratop.counters cannot be read: version out of range");
  CHECK_FALSE(w->row);
  CHECK(cluster.count("INSERT") == 0);
  CHECK(cluster.sql().back() == "ROLLBACK");
}
