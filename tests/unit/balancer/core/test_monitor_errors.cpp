#include <catch2/catch.hpp>

#include "balancer/core/monitor_errors.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

namespace {
const std::chrono::system_clock::time_point t0{1'700'000'000s};
}

TEST_CASE("a monitor failure that repeats the newest one counts again in place") {
  monitor_errors m;
  m.add("Lost connection to server during query", t0);
  m.add("Can't connect to server on '127.0.0.1' (111)", t0 + 1s);
  m.add("Can't connect to server on '127.0.0.1' (111)", t0 + 2s);
  m.add("Can't connect to server on '127.0.0.1' (111)", t0 + 4s);
  REQUIRE(m.entries().size() == 2);
  CHECK(m.entries()[0].error == "Lost connection to server during query");
  CHECK(m.entries()[0].count == 1);
  const auto& refused = m.entries()[1];
  CHECK(refused.count == 3);
  CHECK(refused.first == t0 + 1s);
  CHECK(refused.last == t0 + 4s);
}

TEST_CASE("only the last few distinct monitor failures are kept, oldest first") {
  monitor_errors m;
  for (int i = 0; i < 8; ++i) m.add("error " + std::to_string(i), t0 + std::chrono::seconds(i));
  REQUIRE(m.entries().size() == monitor_errors::kept);
  CHECK(m.entries().front().error == "error 3");
  CHECK(m.entries().back().error == "error 7");
  // An earlier failure that comes back after another is a new run, not a count on the old one.
  m.add("error 6", t0 + 10s);
  CHECK(m.entries().back().error == "error 6");
  CHECK(m.entries().back().count == 1);
}
