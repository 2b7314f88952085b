#include <catch2/catch.hpp>

#include "balancer/resource_shortage.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

TEST_CASE("a descriptor shortage is told once when it begins and once a quiet second after it ends") {
  resource_shortage s;
  const mono_clock::time_point t0{100s};
  CHECK_FALSE(s.cleared(t0));  // nothing to end
  const auto began = s.hit("accept", "Too many open files", "max_connections 10, open sessions 10", t0);
  REQUIRE(began);
  CHECK(*began == "accept failed: Too many open files; clients wait in the listen queue or get ERR 1040 until "
                  "descriptors free up (max_connections 10, open sessions 10)");
  CHECK_FALSE(s.hit("a node connect", "Too many open files", "", t0 + 300ms));  // the same shortage
  CHECK_FALSE(s.hit("accept", "Too many open files", "", t0 + 700ms));
  // At the limit every session that ends lets one more in: a success within the second is no end.
  CHECK_FALSE(s.cleared(t0 + 1500ms));
  const auto ended = s.cleared(t0 + 1700ms);
  REQUIRE(ended);
  CHECK(*ended == "descriptors available again; the shortage lasted 700 ms (3 accepts or connects failed)");
  CHECK_FALSE(s.cleared(t0 + 5s));
  CHECK(s.hit("accept", "Too many open files", "", t0 + 6s));  // a new shortage is told again
}
