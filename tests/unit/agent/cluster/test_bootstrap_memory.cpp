#include <catch2/catch.hpp>

#include "agent/cluster/bootstrap_memory.hpp"
#include "tests/unit/agent/cluster/model_fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;
using namespace std::chrono_literals;

namespace {
const std::string old_uuid = "a0a0a0a0-0000-11ee-8000-000000000000";
const std::string new_uuid = "b1b1b1b1-0000-11ee-8000-000000000001";
const auto t0 = std::chrono::system_clock::time_point{} + std::chrono::seconds(1795580000);

std::vector<node_snapshot> all_down() {
  return {member({.name = "n1", .address = "127.0.0.1:3306", .reachable = false}),
          member({.name = "n2", .address = "127.0.0.1:3307", .reachable = false}),
          member({.name = "n3", .address = "127.0.0.1:3308", .reachable = false})};
}

/// The seed's graceful reboot gone wrong: nodes stopped one after another while writes went on.
bootstrap_memory stopped_in_order() {
  bootstrap_memory m;
  m.note(healthy_cluster(), t0);
  // n1 stops; n2 and n3 go on (conf_id 8) and commit more.
  m.note(std::vector{member({.name = "n2", .address = "127.0.0.1:3307", .conf_id = 8, .size = 2, .seqno = 150}),
                     member({.name = "n3", .address = "127.0.0.1:3308", .conf_id = 8, .size = 2, .seqno = 150})},
         t0 + 60s);
  // n2 stops; n3 alone commits more.
  m.note(std::vector{member({.name = "n3", .address = "127.0.0.1:3308", .conf_id = 9, .size = 1, .seqno = 170})},
         t0 + 120s);
  return m;
}
}  // namespace

TEST_CASE("no bootstrap candidate while any node is up") {
  auto m = stopped_in_order();
  auto nodes = all_down();
  nodes[0] = member({.name = "n1", .address = "127.0.0.1:3306"});
  CHECK_FALSE(m.candidate(nodes).has_value());
}

TEST_CASE("every node down: the candidate has the highest seqno of the last Primary component") {
  auto m = stopped_in_order();
  const auto c = m.candidate(all_down());
  REQUIRE(c.has_value());
  CHECK(c->node == "n3");
  CHECK(c->address == "127.0.0.1:3308");
  CHECK(c->seqno == 170);
  CHECK(c->uuid == new_uuid);
  CHECK(c->evidence.find("n1: seqno 100") != std::string::npos);
  CHECK(c->evidence.find("n2: seqno 150") != std::string::npos);
  CHECK(c->command.find("galera_new_cluster") != std::string::npos);
}

TEST_CASE("equal seqnos: the node that stayed in the Primary component longest is the candidate") {
  bootstrap_memory m;
  m.note(healthy_cluster(), t0);
  m.note(std::vector{member({.name = "n2", .address = "127.0.0.1:3307", .conf_id = 8, .size = 2})}, t0 + 10s);
  const auto c = m.candidate(all_down());
  REQUIRE(c.has_value());
  CHECK(c->node == "n2");
}

TEST_CASE("a seqno from an older cluster history does not count") {
  bootstrap_memory m;
  m.note(std::vector{member({.name = "n1", .address = "127.0.0.1:3306", .uuid = old_uuid, .seqno = 9000})}, t0);
  m.note(std::vector{member({.name = "n2", .address = "127.0.0.1:3307", .uuid = new_uuid, .seqno = 20})}, t0 + 60s);
  const auto c = m.candidate(all_down());
  REQUIRE(c.has_value());
  CHECK(c->node == "n2");
  CHECK(c->evidence.find("another cluster history") != std::string::npos);
}

TEST_CASE("a non-Primary node's seqno is not remembered") {
  bootstrap_memory m;
  m.note(healthy_cluster(), t0);
  m.note(std::vector{member({.name = "n1", .address = "127.0.0.1:3306", .cluster_status = "non-Primary",
                             .seqno = 5000})},
         t0 + 10s);
  CHECK(m.records().at("127.0.0.1:3306").seqno == 100);
}

TEST_CASE("no record of any node: no candidate") {
  bootstrap_memory m;
  CHECK_FALSE(m.candidate(all_down()).has_value());
}

TEST_CASE("membership changes are significant, seqno moves only make the memory dirty") {
  bootstrap_memory m;
  CHECK(m.note(healthy_cluster(), t0));
  m.serialize();
  CHECK_FALSE(m.dirty());
  CHECK_FALSE(m.note(healthy_cluster(), t0 + 1s));
  CHECK_FALSE(m.dirty());  // nothing moved
  CHECK_FALSE(m.note(std::vector{member({.name = "n1", .address = "127.0.0.1:3306", .seqno = 101})}, t0 + 2s));
  CHECK(m.dirty());
  CHECK(m.note(std::vector{member({.name = "n1", .address = "127.0.0.1:3306", .conf_id = 8, .seqno = 101})},
               t0 + 3s));
}

TEST_CASE("the memory survives a restart through its JSON text") {
  auto m = stopped_in_order();
  const std::string text = m.serialize();
  bootstrap_memory restored;
  std::string error;
  REQUIRE(restored.restore(text, error));
  CHECK(restored.records() == m.records());
  CHECK(restored.candidate(all_down())->node == "n3");
}

TEST_CASE("a damaged memory file is refused and changes nothing") {
  auto m = stopped_in_order();
  std::string error;
  CHECK_FALSE(m.restore("{\"version\": 1, \"nodes\": {\"x\": {\"name\": 3}}}", error));
  CHECK_FALSE(error.empty());
  CHECK_FALSE(m.restore("{\"version\": 99, \"nodes\": {}}", error));
  CHECK(error.find("99") != std::string::npos);
  CHECK_FALSE(m.restore("not json", error));
  CHECK(m.records().size() == 3);
}

TEST_CASE("a memory file with numbers no field can hold is refused, naming the field") {
  // Found by fuzz_state_files: a float where an integer belongs was converted with undefined behaviour.
  auto m = stopped_in_order();
  std::string error;
  const std::string record = R"("name": "n1", "uuid": "u", "seqno": 1, "conf_id": 3)";
  CHECK_FALSE(m.restore(R"({"version": 1, "nodes": {"a:1": {)" + record + R"(, "seen_at": 7.7e39}}})", error));
  CHECK(error.find("seen_at") != std::string::npos);
  CHECK_FALSE(m.restore(R"({"version": 1, "nodes": {"a:1": {)" + record + R"(, "seen_at": 1e19}}})", error));
  CHECK_FALSE(m.restore(R"({"version": 1, "nodes": {"a:1": {)" + record + R"(, "seen_at": 99999999999999}}})", error));
  CHECK_FALSE(m.restore(R"({"version": 1e300, "nodes": {}})", error));
  CHECK(m.records().size() == 3);
}
