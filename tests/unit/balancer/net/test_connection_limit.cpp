#include <catch2/catch.hpp>

#include "balancer/net/connection_limit.hpp"

using namespace galeratop;

TEST_CASE("automatic max_connections is what the descriptor limit allows, two per session") {
  CHECK(effective_max_connections(0, 1024) == (1024 - reserved_descriptors) / 2);
  CHECK(effective_max_connections(0, 20000) == (20000 - reserved_descriptors) / 2);
  CHECK(effective_max_connections(0, 64) == 1);  // a tiny limit still lets one client in
}

TEST_CASE("an explicit max_connections is kept, and flagged when descriptors cannot cover it") {
  CHECK(effective_max_connections(300, 1024) == 300);
  CHECK_FALSE(exceeds_descriptor_limit(300, 1024));
  CHECK(effective_max_connections(5000, 1024) == 5000);
  CHECK(exceeds_descriptor_limit(5000, 1024));
  CHECK_FALSE(exceeds_descriptor_limit(0, 256));
}
