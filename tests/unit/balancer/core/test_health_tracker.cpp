#include <catch2/catch.hpp>

#include "balancer/core/health_tracker.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

namespace {
const peer_view no_peers{};
}

TEST_CASE("a node is not up before its first check") {
  health_tracker t(2);
  CHECK(t.current().state == galera_state::unknown);
  CHECK_FALSE(t.current().up);
}

TEST_CASE("a failed first check makes the node down") {
  health_tracker t(2);
  CHECK(t.observe(unreachable(), no_peers));
  CHECK(t.current().state == galera_state::down);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("(111)") != std::string::npos);
}

TEST_CASE("a node rises only after `rise` good checks in a row") {
  health_tracker t(2);
  t.observe(seen(), no_peers);
  CHECK(t.current().state == galera_state::synced);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("rising: 1 of 2") != std::string::npos);
  CHECK(t.observe(seen(), no_peers));
  CHECK(t.current().up);
}

TEST_CASE("a bad check between good ones restarts the rise") {
  health_tracker t(3);
  t.observe(seen(), no_peers);
  t.observe(seen(), no_peers);
  t.observe(unreachable(), no_peers);
  t.observe(seen(), no_peers);
  t.observe(seen(), no_peers);
  CHECK_FALSE(t.current().up);
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("rise 1 admits on the first good check") {
  health_tracker t(1);
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("loss of the monitor connection excludes at once") {
  health_tracker t(2);
  t.observe(seen(), no_peers);
  t.observe(seen(), no_peers);
  REQUIRE(t.current().up);
  CHECK(t.observe(unreachable("Lost connection to server during query"), no_peers));
  CHECK_FALSE(t.current().up);
  CHECK(t.current().state == galera_state::down);
}

TEST_CASE("a non-Primary status excludes at once") {
  health_tracker t(1);
  t.observe(seen(), no_peers);
  t.observe(non_primary(), no_peers);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().state == galera_state::non_primary);
  CHECK(t.current().reason.find("wsrep_cluster_status=non-Primary") != std::string::npos);
}

TEST_CASE("wsrep_connected=OFF counts as non-Primary") {
  health_tracker t(1);
  t.observe(seen({.connected = false}), no_peers);
  CHECK(t.current().state == galera_state::non_primary);
  CHECK_FALSE(t.current().up);
}

TEST_CASE("wsrep_ready=OFF is not serviceable even when Synced") {
  health_tracker t(1);
  t.observe(seen({.ready = false}), no_peers);
  CHECK(t.current().state == galera_state::synced);
  CHECK_FALSE(t.current().up);
}

TEST_CASE("joining, joined and initialized nodes are not serviceable") {
  for (auto [state, expected] : {std::pair{1, galera_state::joining}, std::pair{3, galera_state::joined},
                                 std::pair{0, galera_state::initialized}}) {
    health_tracker t(1);
    t.observe(seen({.local_state = state}), no_peers);
    CHECK(t.current().state == expected);
    CHECK_FALSE(t.current().up);
  }
}

TEST_CASE("a donor is serviceable: it is up, the donor policy decides eligibility") {
  health_tracker t(1);
  t.observe(donor(), no_peers);
  CHECK(t.current().state == galera_state::donor);
  CHECK(t.current().up);
}

TEST_CASE("a thawed node's stale Synced view is not readmitted") {
  // The peers moved on to configuration 8 while it was frozen; it still reports 7.
  const peer_view peers{true, node_view{}.uuid, 8};
  health_tracker t(2);
  t.observe(unreachable(), peers);
  for (int i = 0; i < 10; ++i) t.observe(seen({.conf_id = 7}), peers);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("stale view: wsrep_cluster_conf_id=7 behind the peers' 8") != std::string::npos);
  t.observe(seen({.conf_id = 9}), peers);
  t.observe(seen({.conf_id = 9}), peers);
  CHECK(t.current().up);
}

TEST_CASE("a conf_id lagging one poll behind does not evict a node that is up") {
  health_tracker t(1);
  t.observe(seen({.conf_id = 7}), no_peers);
  REQUIRE(t.current().up);
  CHECK_FALSE(t.observe(seen({.conf_id = 7}), peer_view{true, node_view{}.uuid, 8}));
  CHECK(t.current().up);
}

TEST_CASE("peers of another cluster history do not make a view stale") {
  health_tracker t(1);
  t.observe(seen({.conf_id = 2}), peer_view{true, "another-uuid", 50});
  CHECK(t.current().up);
}

TEST_CASE("an unsettled membership (evs state not OPERATIONAL) blocks readmission") {
  health_tracker t(1);
  t.observe(seen({.evs_state = "GATHER"}), no_peers);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("wsrep_evs_state=GATHER") != std::string::npos);
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("a failed data-path connect takes the node out until the monitor sees it good `rise` times") {
  health_tracker t(2);
  t.observe(seen(), no_peers);
  t.observe(seen(), no_peers);
  CHECK(t.connect_failed("connect: Connection refused"));
  CHECK_FALSE(t.current().up);
  CHECK(t.current().state == galera_state::synced);  // health state is the monitor's word
  t.observe(seen(), no_peers);
  CHECK_FALSE(t.current().up);
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("observe reports a change only when state or up changes") {
  health_tracker t(1);
  CHECK(t.observe(seen(), no_peers));
  CHECK_FALSE(t.observe(seen(), no_peers));
  CHECK(t.observe(donor(), no_peers));
}
