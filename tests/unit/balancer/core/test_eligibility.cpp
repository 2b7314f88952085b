#include <catch2/catch.hpp>

#include "balancer/core/eligibility.hpp"

using namespace galeratop;

namespace {
health up_synced() { return {.state = galera_state::synced, .up = true, .reason = "wsrep_local_state=4 (Synced)"}; }
}  // namespace

TEST_CASE("why a node takes no new clients is its first cause, in the order routing weighs them", "[eligibility]") {
  CHECK(exclusion_of(true, up_synced(), admin_state::ready, true, 1) == exclusion::none);
  health suspect = up_synced();
  suspect.suspect = true;
  CHECK(exclusion_of(false, suspect, admin_state::drain, true, 1) == exclusion::suspect);
  const health down{.state = galera_state::down, .up = false, .reason = "Can't connect"};
  CHECK(exclusion_of(false, down, admin_state::drain, false, 0) == exclusion::unhealthy);
  CHECK(exclusion_of(false, up_synced(), admin_state::maint, false, 0) == exclusion::admin);
  CHECK(exclusion_of(false, up_synced(), admin_state::ready, false, 0) == exclusion::awaiting_intents);
  CHECK(exclusion_of(false, up_synced(), admin_state::ready, true, 0) == exclusion::weight_0);
  CHECK(exclusion_of(false, up_synced(), admin_state::ready, true, 1) == exclusion::avoided);
}

TEST_CASE("the log's word and the events' phrase come from one cause", "[eligibility]") {
  CHECK(exclusion_word(exclusion::none, admin_state::ready) == "eligible");
  CHECK(exclusion_word(exclusion::unhealthy, admin_state::ready) == "not-eligible");
  CHECK(exclusion_word(exclusion::admin, admin_state::drain) == "drain");
  CHECK(exclusion_word(exclusion::awaiting_intents, admin_state::ready) == "awaiting-intents");
  CHECK(exclusion_phrase(exclusion::suspect, admin_state::ready, "no answer within 1 s") ==
        "suspect: no answer within 1 s");
  CHECK(exclusion_phrase(exclusion::unhealthy, admin_state::ready, "Can't connect") == "Can't connect");
  CHECK(exclusion_phrase(exclusion::admin, admin_state::maint, "") == "maint");
  CHECK(exclusion_phrase(exclusion::weight_0, admin_state::ready, "") == "weight 0");
  CHECK(exclusion_phrase(exclusion::avoided, admin_state::ready, "") ==
        "avoided: another node can take its clients (donor policy)");
}
