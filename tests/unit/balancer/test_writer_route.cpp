#include <catch2/catch.hpp>

#include "balancer/writer_route.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

TEST_CASE("the first writer is no switch, a move to another node is one, also through a moment without a writer",
          "[writer_route]") {
  writer_route w;
  CHECK(w.route_to(1, "epoch 1"));
  CHECK(w.switches == 0);
  CHECK_FALSE(w.route_to(1, "epoch 1 again"));  // the same node: only the reason changes
  CHECK(w.why == "epoch 1 again");
  CHECK(w.route_to(std::nullopt, "node1 is down"));
  CHECK(w.switches == 0);
  CHECK(w.route_to(2, "epoch 2"));
  CHECK(w.switches == 1);  // counted from the last writer routed to, whatever came between
  CHECK(w.route_to(std::nullopt, "lost"));
  CHECK(w.route_to(2, "back"));
  CHECK(w.switches == 1);  // back to the same writer: no switch
}

TEST_CASE("a switch is settled only once no writer-listener session is left on another node", "[writer_route]") {
  writer_route w;
  w.route_to(1, "epoch 1");
  CHECK(w.settle(0));
  CHECK(w.strays(2));
  CHECK_FALSE(w.strays(1));
  w.route_to(2, "epoch 2");
  CHECK_FALSE(w.settled);
  CHECK(w.strays(1));
  CHECK_FALSE(w.settle(3));
  CHECK_FALSE(w.settled);
  CHECK(w.settle(0));
  CHECK_FALSE(w.settle(0));  // settled already: nothing more to tell
  w.route_to(std::nullopt, "none");
  CHECK(w.strays(1));
  CHECK(w.strays(2));  // with no writer, every session of a writer listener is left over
}

TEST_CASE("a barrier ends only the switch it began, and only while it is unsettled", "[writer_route]") {
  writer_route w;
  w.route_to(1, "epoch 1");
  const auto first = w.generation;
  CHECK(w.barrier_due(first));
  w.route_to(2, "epoch 2");
  CHECK_FALSE(w.barrier_due(first));  // a newer switch has its own barrier
  CHECK(w.barrier_due(w.generation));
  w.settle(0);
  CHECK_FALSE(w.barrier_due(w.generation));
}

TEST_CASE("new writer-listener sessions go to the writer only once settled and while it is eligible",
          "[writer_route]") {
  routing_table t = healthy_table(3);
  writer_route w;
  CHECK_FALSE(w.ready(t));
  w.route_to(2, "epoch 1");
  CHECK_FALSE(w.ready(t));  // not settled yet
  w.settle(0);
  CHECK(w.ready(t) == node_id{2});
  t.observe(2, unreachable());
  t.refresh(donor_policy::avoid);
  CHECK_FALSE(w.ready(t));
}
