#include <catch2/catch.hpp>

#include "balancer/session_registry.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

TEST_CASE("a session counts on its node from the moment it dials until it ends, and on its listener",
          "[session_registry]") {
  routing_table t = healthy_table(2);
  session_registry r(t);
  session_record& s = r.open(0, false);
  CHECK(r.size() == 1);
  CHECK(s.phase == session_phase::placing);
  CHECK(t.find(1)->connections == 0);
  r.attach(s, 1);
  CHECK(s.phase == session_phase::dialing);
  CHECK(t.find(1)->connections == 1);  // leastconn sees it at once
  CHECK(r.on_listener(0).at(1) == 1);
  r.relayed(s);
  CHECK(t.find(1)->connections == 1);
  const session_id id = s.id;
  CHECK(r.close(id) == node_id{1});
  CHECK(t.find(1)->connections == 0);
  CHECK(r.on_listener(0).empty());
  CHECK(r.size() == 0);
  CHECK(r.close(id) == node_id{0});  // ended once only
}

TEST_CASE("a failed dial leaves its node's count and places again, and the next node counts it", "[session_registry]") {
  routing_table t = healthy_table(2);
  session_registry r(t);
  session_record& s = r.open(1, false);
  r.attach(s, 1);
  CHECK(r.detach(s) == node_id{1});
  CHECK(s.phase == session_phase::placing);
  CHECK(t.find(1)->connections == 0);
  r.attach(s, 2);
  CHECK(t.find(2)->connections == 1);
  CHECK(r.on_listener(1).at(2) == 1);
  CHECK(r.on_listener(1).count(1) == 0);
  CHECK(r.on_listener(7).empty());  // a listener without a session
}

TEST_CASE("the sessions of a node a reload removed end without counting anywhere", "[session_registry]") {
  routing_table t = healthy_table(2);
  session_registry r(t);
  session_record& s = r.open(0, false);
  r.attach(s, 2);
  r.relayed(s);
  t.remove(2);
  const session_id id = s.id;
  CHECK(r.close(id) == node_id{2});
  CHECK(t.find(1)->connections == 0);
  CHECK(r.on_listener(0).empty());
}

TEST_CASE("held sessions are counted, and found in arrival order", "[session_registry]") {
  routing_table t = healthy_table(1);
  session_registry r(t);
  session_record& a = r.open(0, false);
  session_record& b = r.open(0, true);
  session_record& c = r.open(0, false);
  r.set_held(c, true);
  r.set_held(a, true);
  r.set_held(a, true);  // once is once
  CHECK(r.held() == 2);
  CHECK(r.select([](const session_record& s) { return s.held; }) == std::vector<session_id>{a.id, c.id});
  CHECK(r.count([](const session_record& s) { return s.writer_listener; }) == 1);
  const session_id held_one = c.id;
  r.close(held_one);  // a held client that leaves
  CHECK(r.held() == 1);
  r.set_held(a, false);
  CHECK(r.held() == 0);
  CHECK(r.find(b.id) == &b);
  CHECK(r.find(held_one) == nullptr);
}
