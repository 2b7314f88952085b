#include <catch2/catch.hpp>

#include "agent/control/node_reference.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

TEST_CASE("a control request names a node by its name, its configured address or the address it resolved to") {
  auto t = healthy_table(3);
  t.find(3)->resolved = {"10.1.2.3", 3308};
  control_error error;
  CHECK(find_node(t.records(), "n2", error)->id == 2);
  CHECK(find_node(t.records(), "127.0.0.1:3306", error)->id == 1);
  CHECK(find_node(t.records(), "10.1.2.3:3308", error)->id == 3);
  CHECK_FALSE(find_node(t.records(), "n9", error));
  CHECK(error.code == "unknown_node");
  CHECK(error.message == "no node is called n9; known: n1 (127.0.0.1:3306), n2 (127.0.0.1:3307), n3 (127.0.0.1:3308)");
}

TEST_CASE("a name two nodes share (the seed's cloned node) is ambiguous: the address must be used") {
  routing_table t;
  for (node_id id : {1u, 2u}) {
    t.add(id, "", "10.0.0." + std::to_string(id) + ":3306", 1, {});
    observation o = seen();
    o.node_name = "galera-db-01";
    t.observe(id, o);
  }
  control_error error;
  CHECK_FALSE(find_node(t.records(), "galera-db-01", error));
  CHECK(error.code == "ambiguous_node");
  CHECK(error.message.starts_with("galera-db-01 names 2 nodes; use the address: "));
  CHECK(find_node(t.records(), "10.0.0.2:3306", error)->id == 2);
}
