#include <catch2/catch.hpp>

#include "agent/store/store_session.hpp"
#include "tests/unit/agent/store/counter_table.hpp"
#include "tests/unit/agent/store/fake_session.hpp"

using namespace galeratop;
using namespace galeratop::test;
using namespace std::chrono_literals;

// The session to the cluster and the compare-and-set's retries: which node a write goes through,
// when it runs again, and when it gives up.

namespace {
using counter_write = row_write<counter>;
using strings = std::vector<std::string>;
}  // namespace

TEST_CASE("a write goes through the first node that answers, with causal reads, and says which") {
  fake_cluster cluster;
  cluster.refusing = {"10.0.0.1:3306"};
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::written);
  CHECK(w.on == "10.0.0.2:3306");
  CHECK(cluster.opened == strings{"10.0.0.2:3306"});
  REQUIRE_FALSE(cluster.statements.empty());
  CHECK(cluster.statements.front() ==
        std::pair<std::string, std::string>{"10.0.0.2:3306",
                                            "SET SESSION wsrep_sync_wait = 1, innodb_lock_wait_timeout = 2"});
}

TEST_CASE("the first write of all creates the table and runs again on the same session") {
  fake_cluster cluster;
  cluster.on("SELECT", no_such_table());
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::written);
  CHECK(w.row == counter{"hits", 1, "1"});
  CHECK(cluster.count("CREATE TABLE") == 1);
  CHECK(cluster.count("START TRANSACTION") == 2);
  CHECK(cluster.opened.size() == 1);
}

TEST_CASE("a certification race lost to another node is retried on the same session, and reads the winner's row") {
  fake_cluster cluster;
  cluster.on("SELECT", rows({counter_row(4, "old")}));
  cluster.on("COMMIT", deadlock());
  cluster.on("SELECT", rows({counter_row(5, "theirs")}));
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"mine", 4}));
  CHECK(w.result == counter_write::kind::conflict);
  CHECK(w.row == counter{"hits", 5, "theirs"});
  CHECK(w.on == "10.0.0.1:3306");
  CHECK(cluster.count("START TRANSACTION") == 2);
  CHECK(cluster.opened.size() == 1);
  CHECK(cluster.closed.empty());
}

TEST_CASE("races lost at every attempt end the write after write_attempts, asking to try again") {
  fake_cluster cluster;
  cluster.on("COMMIT", deadlock(), 10);
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::failed);
  CHECK(w.error == "another agent kept changing the row; try again");
  CHECK_FALSE(w.row);
  CHECK(w.on.empty());
  CHECK(cluster.count("START TRANSACTION") == store_session::write_attempts);
}

TEST_CASE("the retries stop when the write's time budget is spent, whatever attempts are left") {
  fake_cluster cluster;
  // 400 ms a statement: the connect's SET ends at 0.4 s, a lost attempt takes five statements
  // (START, SELECT, INSERT, COMMIT, ROLLBACK), so the second starts at 2.4 s, within the budget of
  // 3 s, and a third would start at 4.4 s.
  cluster.per_statement = 400ms;
  cluster.on("COMMIT", deadlock(), 10);
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::failed);
  CHECK(w.error == "another agent kept changing the row; try again");
  CHECK(cluster.count("START TRANSACTION") == 2);
  CHECK(store_session::write_budget == 3s);
}

TEST_CASE("a failed attempt drops its session, and the next attempt goes through the next node") {
  fake_cluster cluster;
  cluster.on("INSERT", connection_lost());
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::written);
  CHECK(w.on == "10.0.0.2:3306");
  CHECK(cluster.opened == strings{"10.0.0.1:3306", "10.0.0.2:3306"});
  CHECK(cluster.closed == strings{"10.0.0.1:3306"});
}

TEST_CASE("a statement failing at every attempt fails the write with the server's words, through the last node") {
  fake_cluster cluster;
  cluster.on("INSERT", connection_lost(), 10);
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::failed);
  CHECK(w.error == "Lost connection to server during query");
  CHECK(w.on == "10.0.0.3:3306");
  CHECK(cluster.opened == strings{"10.0.0.1:3306", "10.0.0.2:3306", "10.0.0.3:3306"});
  CHECK(cluster.closed == cluster.opened);  // every failed attempt dropped its session
  CHECK(session.get() == nullptr);
}

TEST_CASE("an unreadable row fails the write with the table's words after every attempt") {
  fake_cluster cluster;
  cluster.on("SELECT", rows({{"hits", "x", "old"}}), 10);
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::failed);
  CHECK(w.error == "the row of galeratop.counters cannot be read: version out of range");
  CHECK(cluster.count("INSERT") == 0);
  CHECK(cluster.count("ROLLBACK") == store_session::write_attempts);
}

TEST_CASE("with no node offered, a write fails at once") {
  fake_cluster cluster;
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set({}, counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::failed);
  CHECK(w.error == "no node is synced and up");
  CHECK(cluster.statements.empty());
}

TEST_CASE("when no node answers, a write fails at once with the last node's address and words") {
  fake_cluster cluster;
  cluster.refusing = {"10.0.0.1:3306", "10.0.0.2:3306", "10.0.0.3:3306"};
  store_session session = cluster.session();
  const counter_write w = session.compare_and_set(fake_nodes(3), counter_cas({"1", 0}));
  CHECK(w.result == counter_write::kind::failed);
  CHECK(w.error == "10.0.0.2:3306: Can't connect to server on '10.0.0.2' (111)");  // two nodes tried per connect
  CHECK(w.on.empty());
  CHECK(cluster.statements.empty());
}

TEST_CASE("the session is kept while its node is offered, and replaced when it no longer is") {
  fake_cluster cluster;
  store_session session = cluster.session();
  std::string error;
  const auto nodes = fake_nodes(3);
  sql_session* first = session.connect(nodes, error);
  REQUIRE(first);
  CHECK(session.connect(nodes, error) == first);
  CHECK(session.node() == "10.0.0.1:3306");
  const std::vector<mysql_login> others(nodes.begin() + 1, nodes.end());
  REQUIRE(session.connect(others, error));
  CHECK(session.node() != "10.0.0.1:3306");
  CHECK(cluster.opened.size() == 2);
  CHECK(cluster.closed == strings{"10.0.0.1:3306"});
}
