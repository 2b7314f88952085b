#include <catch2/catch.hpp>

#include "agent/control/push_cadence.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

TEST_CASE("status pushes keep their cadence, and a push out of turn does not shift it", "[push_cadence]") {
  const std::chrono::steady_clock::time_point t0{100s};
  CHECK(next_push(t0, 250ms, t0, false) == t0 + 250ms);  // on the cadence
  CHECK(next_push(t0, 250ms, t0 + 3ms, false) == t0 + 250ms);  // a little late: the cadence holds
  CHECK(next_push(t0 + 250ms, 250ms, t0 + 120ms, true) == t0 + 250ms);  // a drain's end: the next one as planned
  CHECK(next_push(t0 + 250ms, 250ms, t0 + 250ms, true) == t0 + 500ms);  // out of turn, but due anyway: one push
}
