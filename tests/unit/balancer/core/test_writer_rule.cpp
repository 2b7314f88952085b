#include <catch2/catch.hpp>

#include "balancer/core/writer_rule.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

TEST_CASE("the preferred writer is the highest writer_priority, then the lowest address, among nodes that can write") {
  auto t = healthy_table(3);  // n1 127.0.0.1:3306, n2 :3307, n3 :3308
  CHECK(preferred_writer(t.records()) == node_id{1});  // equal priorities: the lowest address
  t.find(3)->writer_priority = 5;
  CHECK(preferred_writer(t.records()) == node_id{3});
  CHECK(outranks(*t.find(3), *t.find(1)));
  CHECK_FALSE(outranks(*t.find(2), *t.find(1)));
  CHECK(outranks(*t.find(1), *t.find(2)));
}

TEST_CASE("a donor, a drained node, a node of writer_priority 0 or a non-Primary one cannot be the writer") {
  auto t = healthy_table(4);
  t.find(1)->intent.admin = admin_state::drain;
  t.find(2)->writer_priority = 0;
  for (int k = 0; k < 3; ++k) t.observe(3, non_primary());
  t.observe(4, donor());
  t.refresh(donor_policy::avoid);
  for (node_id id : {1, 2, 3, 4}) CHECK_FALSE(can_write(*t.find(id)));
  // n2 takes clients like any node; only the writes never go to it.
  CHECK(t.find(2)->eligible);
  CHECK_FALSE(preferred_writer(t.records()));
}

TEST_CASE("before the writer is drained, the role goes to the node the rule prefers without it") {
  auto t = healthy_table(3);
  CHECK(preferred_writer_without(t, 1, admin_state::drain, donor_policy::avoid) == node_id{2});
  t.find(3)->writer_priority = 5;
  CHECK(preferred_writer_without(t, 1, admin_state::maint, donor_policy::avoid) == node_id{3});
  CHECK(t.find(1)->intent.admin == admin_state::ready);  // judged on a copy: the table is untouched
  // With no other node able to write, there is none to move to.
  t.find(2)->writer_priority = 0;
  t.find(3)->writer_priority = 0;
  CHECK_FALSE(preferred_writer_without(t, 1, admin_state::drain, donor_policy::avoid));
}
