#include <catch2/catch.hpp>

#include "balancer/close_rules.hpp"

using namespace galeratop;

TEST_CASE("a node that goes down or non-Primary has its sessions closed once, when close_on_failure is on",
          "[close_rules]") {
  CHECK(closes_on_failure(true, galera_state::synced, galera_state::down));
  CHECK(closes_on_failure(true, galera_state::donor, galera_state::non_primary));
  CHECK(closes_on_failure(true, std::nullopt, galera_state::down));   // a node added while down
  CHECK_FALSE(closes_on_failure(true, galera_state::down, galera_state::non_primary));  // closed already
  CHECK_FALSE(closes_on_failure(true, galera_state::synced, galera_state::donor));  // a donor still answers
  CHECK_FALSE(closes_on_failure(false, galera_state::synced, galera_state::down));
}

TEST_CASE("ready keeps the sessions not closed yet, drain closes at safe points, maint also cuts after its grace",
          "[close_rules]") {
  CHECK(after_admin_change(admin_state::ready) == admin_followup::keep);
  CHECK(after_admin_change(admin_state::drain) == admin_followup::close_safe);
  CHECK(after_admin_change(admin_state::maint) == admin_followup::close_safe_then_cut);
}

TEST_CASE("a session that reaches the relay after its node was drained closes at its first safe point",
          "[close_rules]") {
  CHECK_FALSE(close_on_arrival(admin_state::ready, std::nullopt));
  CHECK(close_on_arrival(admin_state::drain, std::nullopt) == "drained");
  CHECK(close_on_arrival(admin_state::maint, std::nullopt) == "in maintenance");
  CHECK(close_on_arrival(admin_state::ready, "behind a galeratopd that is stopping") ==
        "behind a galeratopd that is stopping");
}

TEST_CASE("a drain ends when its node out of rotation has no session left", "[close_rules]") {
  CHECK(drained(admin_state::drain, 0));
  CHECK(drained(admin_state::maint, 0));
  CHECK_FALSE(drained(admin_state::drain, 1));
  CHECK_FALSE(drained(admin_state::ready, 0));  // a node in rotation with no session is no news
}
