#include <catch2/catch.hpp>

#include "balancer/core/health_tracker.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

namespace {
const peer_view no_peers{};
}

TEST_CASE("a node is not up before its first check") {
  health_tracker t({.rise = 2});
  CHECK(t.current().state == galera_state::unknown);
  CHECK_FALSE(t.current().up);
}

TEST_CASE("a failed first check makes the node down") {
  health_tracker t({.rise = 2});
  CHECK(t.observe(unreachable(), no_peers));
  CHECK(t.current().state == galera_state::down);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("(111)") != std::string::npos);
}

TEST_CASE("a node rises only after `rise` good checks in a row") {
  health_tracker t({.rise = 2});
  t.observe(seen(), no_peers);
  CHECK(t.current().state == galera_state::synced);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("rising: 1 of 2") != std::string::npos);
  CHECK(t.observe(seen(), no_peers));
  CHECK(t.current().up);
}

TEST_CASE("a bad check between good ones restarts the rise") {
  health_tracker t({.rise = 3});
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
  health_tracker t({.rise = 1});
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("loss of the monitor connection excludes at once") {
  health_tracker t({.rise = 2});
  t.observe(seen(), no_peers);
  t.observe(seen(), no_peers);
  REQUIRE(t.current().up);
  CHECK(t.observe(unreachable("Lost connection to server during query"), no_peers));
  CHECK_FALSE(t.current().up);
  CHECK(t.current().state == galera_state::down);
}

TEST_CASE("a non-Primary status excludes at once") {
  health_tracker t({.rise = 1});
  t.observe(seen(), no_peers);
  t.observe(non_primary(), no_peers);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().state == galera_state::non_primary);
  CHECK(t.current().reason.find("wsrep_cluster_status=non-Primary") != std::string::npos);
}

TEST_CASE("wsrep_connected=OFF counts as non-Primary") {
  health_tracker t({.rise = 1});
  t.observe(seen({.connected = false}), no_peers);
  CHECK(t.current().state == galera_state::non_primary);
  CHECK_FALSE(t.current().up);
}

TEST_CASE("wsrep_ready=OFF is not serviceable even when Synced") {
  health_tracker t({.rise = 1});
  t.observe(seen({.ready = false}), no_peers);
  CHECK(t.current().state == galera_state::synced);
  CHECK_FALSE(t.current().up);
}

TEST_CASE("joining, joined and initialized nodes are not serviceable") {
  for (auto [state, expected] : {std::pair{1, galera_state::joining}, std::pair{3, galera_state::joined},
                                 std::pair{0, galera_state::initialized}}) {
    health_tracker t({.rise = 1});
    t.observe(seen({.local_state = state}), no_peers);
    CHECK(t.current().state == expected);
    CHECK_FALSE(t.current().up);
  }
}

TEST_CASE("a donor is serviceable: it is up, the donor policy decides eligibility") {
  health_tracker t({.rise = 1});
  t.observe(donor(), no_peers);
  CHECK(t.current().state == galera_state::donor);
  CHECK(t.current().up);
}

TEST_CASE("a thawed node's stale Synced view is not readmitted") {
  // The peers moved on to configuration 8 while it was frozen; it still reports 7.
  const peer_view peers{true, node_view{}.uuid, 8};
  health_tracker t({.rise = 2});
  t.observe(unreachable(), peers);
  for (int i = 0; i < 10; ++i) t.observe(seen({.conf_id = 7}), peers);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("stale view: wsrep_cluster_conf_id=7 behind the peers' 8") != std::string::npos);
  t.observe(seen({.conf_id = 9}), peers);
  t.observe(seen({.conf_id = 9}), peers);
  CHECK(t.current().up);
}

TEST_CASE("a conf_id lagging one poll behind does not evict a node that is up") {
  health_tracker t({.rise = 1});
  t.observe(seen({.conf_id = 7}), no_peers);
  REQUIRE(t.current().up);
  CHECK_FALSE(t.observe(seen({.conf_id = 7}), peer_view{true, node_view{}.uuid, 8}));
  CHECK(t.current().up);
}

TEST_CASE("peers of another cluster history do not make a view stale") {
  health_tracker t({.rise = 1});
  t.observe(seen({.conf_id = 2}), peer_view{true, "another-uuid", 50});
  CHECK(t.current().up);
}

TEST_CASE("an unsettled membership (evs state not OPERATIONAL) blocks readmission") {
  health_tracker t({.rise = 1});
  t.observe(seen({.evs_state = "GATHER"}), no_peers);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("wsrep_evs_state=GATHER") != std::string::npos);
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("a failed data-path connect takes the node out until the monitor sees it good `rise` times") {
  health_tracker t({.rise = 2});
  t.observe(seen(), no_peers);
  t.observe(seen(), no_peers);
  CHECK(t.connect_failed("connect: Connection refused", false, {}));
  CHECK_FALSE(t.current().up);
  CHECK(t.current().state == galera_state::synced);  // health state is the monitor's word
  t.observe(seen(), no_peers);
  CHECK_FALSE(t.current().up);
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("observe reports a change only when state or up changes") {
  health_tracker t({.rise = 1});
  CHECK(t.observe(seen(), no_peers));
  CHECK_FALSE(t.observe(seen(), no_peers));
  CHECK(t.observe(donor(), no_peers));
}

namespace {
using namespace std::chrono_literals;

/// A tracker whose node is up (two good checks), with the default fall 3 and hung_time 5 s.
health_tracker up_node() {
  health_tracker t({.rise = 2});
  t.observe(seen(), no_peers);
  t.observe(seen(), no_peers);
  REQUIRE(t.current().up);
  return t;
}

const mono_clock::time_point t0{1000s};
}  // namespace

TEST_CASE("a late check makes an up node suspect: out of rotation, not down, its sessions untouched") {
  auto t = up_node();
  CHECK(t.observe(late(t0), no_peers));
  const health& h = t.current();
  CHECK(h.suspect);
  CHECK_FALSE(h.up);                          // no new sessions at once
  CHECK(h.state == galera_state::synced);     // not down: its sessions are not closed
  CHECK(h.suspect_since == t0);
  CHECK(h.reason.starts_with("suspect: no answer within the monitor's timeout, 1 of 3 checks"));
  CHECK(t.suspicions() == 1);
}

TEST_CASE("late, late, good: one good check clears the suspicion, with no rise to wait for") {
  auto t = up_node();
  t.observe(late(t0), no_peers);
  CHECK_FALSE(t.observe(late(t0 + 2s), no_peers));  // still suspect: nothing changed
  CHECK(t.current().suspect);
  CHECK(t.observe(seen(), no_peers));
  CHECK(t.current().up);
  CHECK_FALSE(t.current().suspect);
  CHECK(t.current().state == galera_state::synced);
  CHECK(t.current().reason.find("no longer suspect") != std::string::npos);
  // The late streak starts again: two more late checks are a new suspicion, not a fall.
  t.observe(late(t0 + 4s), no_peers);
  t.observe(late(t0 + 5s), no_peers);
  CHECK(t.current().suspect);
  CHECK(t.current().state == galera_state::synced);
  CHECK(t.suspicions() == 2);
}

TEST_CASE("fall late checks in a row take a suspect node for down") {
  auto t = up_node();
  t.observe(late(t0), no_peers);
  t.observe(late(t0 + 1s), no_peers);
  CHECK(t.observe(late(t0 + 2s), no_peers));
  CHECK(t.current().state == galera_state::down);
  CHECK_FALSE(t.current().suspect);
  CHECK(t.current().reason.starts_with("3 checks in a row got no answer within the monitor's timeout"));
  // Back from a real down takes `rise` good checks.
  t.observe(seen(), no_peers);
  CHECK_FALSE(t.current().up);
  t.observe(seen(), no_peers);
  CHECK(t.current().up);
}

TEST_CASE("a failure the node's side answered (a reset, a refusal) takes it down at once, suspect or not") {
  auto t = up_node();
  CHECK(t.observe(unreachable("Lost connection to server during query"), no_peers));
  CHECK(t.current().state == galera_state::down);
  CHECK_FALSE(t.current().suspect);
  auto s = up_node();
  s.observe(late(t0), no_peers);
  CHECK(s.observe(unreachable(), no_peers));
  CHECK(s.current().state == galera_state::down);
  CHECK_FALSE(s.current().suspect);
}

TEST_CASE("hung_time takes a suspect node for down while its checks still hang, whichever comes first") {
  health_tracker t({.rise = 1, .fall = 10, .hung_time = 5s});
  t.observe(seen(), no_peers);
  t.observe(late(t0), no_peers);
  CHECK_FALSE(t.expire(t0 + 4900ms));
  CHECK(t.current().suspect);
  CHECK(t.expire(t0 + 5s));
  CHECK(t.current().state == galera_state::down);
  CHECK(t.current().reason == "hung: no answer within the monitor's timeout for 5000 ms (hung_time 5000 ms)");
  CHECK_FALSE(t.expire(t0 + 9s));  // down already: nothing more to do
  CHECK_FALSE(up_node().expire(t0 + 1h));  // an up node is never hung
}

TEST_CASE("a late check of a node that is not up is a plain failure: it is down") {
  health_tracker t({.rise = 2});
  t.observe(seen(), no_peers);  // rising, 1 of 2
  t.observe(late(t0), no_peers);
  CHECK(t.current().state == galera_state::down);
  CHECK_FALSE(t.current().suspect);
  CHECK(t.suspicions() == 0);
}

TEST_CASE("a suspect node that answers with a stale view stays suspect, one that is non-Primary is non-Primary") {
  auto t = up_node();
  t.observe(late(t0), no_peers);
  const peer_view moved_on{true, "b1b1b1b1-0000-11ee-8000-000000000001", 9};  // fixtures' conf_id is 7
  t.observe(seen(), moved_on);
  CHECK(t.current().suspect);
  CHECK_FALSE(t.current().up);
  CHECK(t.current().reason.find("still suspect") != std::string::npos);
  CHECK(t.observe(non_primary(), no_peers));
  CHECK(t.current().state == galera_state::non_primary);
  CHECK_FALSE(t.current().suspect);
}

TEST_CASE("a failed call is late when it ran into its timeout, answered when it came back sooner") {
  using std::chrono::microseconds;
  CHECK(ran_out_of_time(microseconds(1'000'300), 1s));
  CHECK(ran_out_of_time(microseconds(950'000), 1s));
  CHECK_FALSE(ran_out_of_time(microseconds(400), 1s));       // a refused connect
  CHECK_FALSE(ran_out_of_time(microseconds(120'000), 1s));   // a reset under load
}

TEST_CASE("a data-path connect that got no greeting in time makes an up node suspect, and counts towards no fall") {
  auto t = up_node();
  CHECK(t.connect_failed("no server greeting within 1000 ms", true, t0));
  CHECK(t.current().suspect);
  CHECK(t.current().state == galera_state::synced);
  CHECK(t.current().suspect_since == t0);
  // A burst of clients failing the same way is one suspicion, not a fall.
  for (int k = 0; k < 5; ++k) t.connect_failed("no server greeting within 1000 ms", true, t0 + 100ms);
  CHECK(t.current().state == galera_state::synced);
  CHECK(t.suspicions() == 1);
  // The monitor's late checks carry the suspicion on: then only they count.
  t.observe(late(t0 + 1s), no_peers);
  t.observe(late(t0 + 2s), no_peers);
  CHECK(t.current().suspect);
  t.observe(late(t0 + 3s), no_peers);
  CHECK(t.current().state == galera_state::down);
}
