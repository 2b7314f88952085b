#include <catch2/catch.hpp>

#include "balancer/core/clock.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

TEST_CASE("periodic tasks started at different moments share one grid of ticks") {
  const mono_clock::time_point a{10'003ms};
  const mono_clock::time_point b{10'187ms};
  CHECK(next_tick(a, 250ms) == mono_clock::time_point{10'250ms});
  CHECK(next_tick(b, 250ms) == next_tick(a, 250ms));
}

TEST_CASE("a tick is always strictly in the future, also when now is on the grid") {
  const mono_clock::time_point on_grid{10'250ms};
  CHECK(next_tick(on_grid, 250ms) == mono_clock::time_point{10'500ms});
  CHECK(next_tick(on_grid + 1ns, 250ms) == mono_clock::time_point{10'500ms});
}

TEST_CASE("a zero interval does not divide by zero") {
  const mono_clock::time_point t{5s};
  CHECK(next_tick(t, 0ms) == t);
}
