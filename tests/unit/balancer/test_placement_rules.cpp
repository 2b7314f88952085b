#include <catch2/catch.hpp>

#include "balancer/placement_rules.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

TEST_CASE("a client with a node is placed, without one it is held, refused at once with hold 0, or past hold_limit",
          "[placement]") {
  CHECK(admit(true, 10s, 5000, 1024) == admission::place);
  CHECK(admit(false, 10s, 0, 1024) == admission::hold);
  CHECK(admit(false, 10s, 1023, 1024) == admission::hold);
  CHECK(admit(false, 10s, 1024, 1024) == admission::full);
  CHECK(admit(false, 0s, 0, 1024) == admission::refuse);
}

TEST_CASE("a failed connect marks that node and the next attempt picks another, up to connect_attempts",
          "[placement]") {
  placement_attempts a(false, 3);
  for (node_id id : {1u, 2u, 3u}) {
    REQUIRE(a.more());
    a.start();
    CHECK(a.failed(id, "n" + std::to_string(id), {.why = "connect: Connection refused"}, false) ==
          after_failure::next_node);
  }
  CHECK_FALSE(a.more());
  CHECK(a.tried().size() == 3);
  CHECK(a.error("no Galera node is available (3 configured: 3 down)") ==
        "no Galera node could be reached (n1: connect: Connection refused; n2: connect: Connection refused; n3: "
        "connect: Connection refused)");
}

TEST_CASE("a writer listener's client is tried on the writer alone: another node would be a second writer",
          "[placement]") {
  placement_attempts a(true, 3);
  a.start();
  CHECK(a.failed(2, "n2", {.why = "no server greeting within 1000 ms", .late = true}, false) ==
        after_failure::next_node);
  CHECK_FALSE(a.more());
  CHECK(a.error("unused") == "no Galera node could be reached (the writer n2: no server greeting within 1000 ms)");
}

TEST_CASE("a client closed meanwhile or a descriptor shortage ends the attempts, and no node is blamed",
          "[placement]") {
  placement_attempts closed(false, 3);
  closed.start();
  CHECK(closed.failed(1, "n1", {.why = "the client left"}, true) == after_failure::client_closed);
  CHECK(closed.tried().empty());

  placement_attempts shortage(false, 3);
  shortage.start();
  CHECK(shortage.failed(1, "n1", {.why = "connect: Too many open files", .ours = true}, false) ==
        after_failure::out_of_descriptors);
  CHECK(shortage.tried().empty());
}

TEST_CASE("a client no node could even be tried for gets the routing table's reason", "[placement]") {
  const placement_attempts a(false, 3);
  CHECK(a.error("no Galera node is available (3 configured: 2 down, 1 drain)") ==
        "no Galera node is available (3 configured: 2 down, 1 drain)");
}

TEST_CASE("a hold that ends without a node says why its listener has none, and that the queue was full",
          "[placement]") {
  CHECK(hold_refusal(false, "no Galera node is available (1 configured: 1 down)", "", false, 1024) ==
        "no Galera node is available (1 configured: 1 down)");
  CHECK(hold_refusal(true, "unused", "", false, 1024) == "no writer");
  CHECK(hold_refusal(true, "unused", "galeratop.writer cannot be read", false, 1024) ==
        "galeratop.writer cannot be read");
  CHECK(hold_refusal(false, "no Galera node is available (1 configured: 1 down)", "", true, 16) ==
        "no Galera node is available (1 configured: 1 down) and 16 client(s) are held already (hold_limit)");
}
