#include <catch2/catch.hpp>
#include <map>

#include "balancer/core/routing_table.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

namespace {
/// Picks `n` times, counting each pick as a new open connection, as the balancer does.
std::map<node_id, int> pick_many(routing_table& t, balance_policy p, int n) {
  std::map<node_id, int> counts;
  for (int i = 0; i < n; ++i) {
    auto id = t.pick(p);
    REQUIRE(id);
    ++counts[*id];
    ++t.find(*id)->connections;
  }
  return counts;
}

void set_state(routing_table& t, node_id id, const observation& o, donor_policy d = donor_policy::avoid) {
  t.observe(id, o);
  t.refresh(d);
}
}  // namespace

TEST_CASE("nodes are not eligible before the monitor has seen them") {
  routing_table t;
  t.add(1, "", "127.0.0.1:3306", 1, {});
  t.refresh(donor_policy::avoid);
  CHECK_FALSE(t.records()[0].eligible);
  CHECK_FALSE(t.pick(balance_policy::leastconn));
}

TEST_CASE("30 sessions over 3 equal nodes land 10/10/10 with leastconn") {
  auto t = healthy_table(3);
  auto counts = pick_many(t, balance_policy::leastconn, 30);
  CHECK(counts == std::map<node_id, int>{{1, 10}, {2, 10}, {3, 10}});
}

TEST_CASE("leastconn ties go round robin, so equal idle nodes take turns") {
  auto t = healthy_table(3);
  // Sessions that end at once leave every count at 0: a pure tie every time.
  std::vector<node_id> order;
  for (int i = 0; i < 6; ++i) order.push_back(*t.pick(balance_policy::leastconn));
  CHECK(order == std::vector<node_id>{1, 2, 3, 1, 2, 3});
}

TEST_CASE("leastconn weighs connections: weight 2 takes twice the sessions") {
  auto t = healthy_table(2, 2, {2, 1});
  auto counts = pick_many(t, balance_policy::leastconn, 30);
  CHECK(counts == std::map<node_id, int>{{1, 20}, {2, 10}});
}

TEST_CASE("leastconn ties are broken by weight first") {
  auto t = healthy_table(2, 2, {1, 3});
  CHECK(*t.pick(balance_policy::leastconn) == 2);
}

TEST_CASE("leastconn prefers the node with fewest connections") {
  auto t = healthy_table(3);
  t.find(1)->connections = 5;
  t.find(2)->connections = 2;
  t.find(3)->connections = 4;
  CHECK(*t.pick(balance_policy::leastconn) == 2);
}

TEST_CASE("roundrobin cycles equal nodes") {
  auto t = healthy_table(3);
  std::vector<node_id> order;
  for (int i = 0; i < 6; ++i) order.push_back(*t.pick(balance_policy::roundrobin));
  CHECK(order == std::vector<node_id>{1, 2, 3, 1, 2, 3});
}

TEST_CASE("weighted roundrobin 5:1:1 interleaves over 7 picks") {
  auto t = healthy_table(3, 2, {5, 1, 1});
  std::vector<node_id> order;
  for (int i = 0; i < 7; ++i) order.push_back(*t.pick(balance_policy::roundrobin));
  // Smooth weighted round robin: the heavy node never takes all its turns in a row.
  CHECK(order == std::vector<node_id>{1, 1, 2, 1, 3, 1, 1});
}

TEST_CASE("after a failed connect the next pick skips the tried node") {
  auto t = healthy_table(3);
  const node_id first = *t.pick(balance_policy::leastconn);
  std::vector<node_id> tried{first};
  const auto second = t.pick(balance_policy::leastconn, tried);
  REQUIRE(second);
  CHECK(*second != first);
  tried.push_back(*second);
  const auto third = t.pick(balance_policy::leastconn, tried);
  REQUIRE(third);
  tried.push_back(*third);
  CHECK_FALSE(t.pick(balance_policy::leastconn, tried));
  CHECK_FALSE(t.pick(balance_policy::roundrobin, tried));
}

TEST_CASE("a donor is avoided while a synced node can serve") {
  auto t = healthy_table(3);
  set_state(t, 2, donor());
  CHECK(t.records()[1].tracker.current().up);
  CHECK_FALSE(t.records()[1].eligible);
  auto counts = pick_many(t, balance_policy::leastconn, 20);
  CHECK(counts.count(2) == 0);
}

TEST_CASE("donor = serve treats a donor like a synced node") {
  auto t = healthy_table(3);
  set_state(t, 2, donor(), donor_policy::serve);
  CHECK(t.records()[1].eligible);
}

TEST_CASE("a lone donor is still served, and avoided again when a synced node returns") {
  auto t = healthy_table(2);
  set_state(t, 1, unreachable());
  set_state(t, 2, donor());
  CHECK(t.records()[1].eligible);  // never leave clients with nothing when a node could answer
  CHECK(*t.pick(balance_policy::leastconn) == 2);
  set_state(t, 1, seen());
  set_state(t, 1, seen());
  CHECK(t.records()[0].eligible);
  CHECK_FALSE(t.records()[1].eligible);
}

TEST_CASE("drained, in-maintenance and weight-0 nodes are never eligible") {
  auto t = healthy_table(3);
  t.find(1)->intent.admin = admin_state::drain;
  t.find(2)->intent.admin = admin_state::maint;
  t.find(3)->intent.weight = 0;
  t.refresh(donor_policy::avoid);
  for (const node_record& r : t.records()) CHECK_FALSE(r.eligible);
  CHECK(t.unavailable_reason() == "no Galera node is available (3 configured: 1 drained, 1 in maintenance, 1 weight 0)");
}

TEST_CASE("no node is eligible until the shared intents are known, not even a lone donor") {
  auto t = healthy_table(3);
  set_state(t, 3, donor());
  t.set_intents_known(false);
  t.refresh(donor_policy::avoid);
  for (const node_record& r : t.records()) CHECK_FALSE(r.eligible);
  CHECK_FALSE(t.pick(balance_policy::leastconn));
  CHECK(t.unavailable_reason() == "no Galera node is available (3 configured: 3 awaiting the shared intents)");
  CHECK(t.others_eligible_without(1, donor_policy::avoid));  // a drain in that moment is not refused for it
  set_state(t, 1, unreachable());
  CHECK(t.unavailable_reason() ==
        "no Galera node is available (3 configured: 2 awaiting the shared intents, 1 down)");
  t.set_intents_known(true);
  t.refresh(donor_policy::avoid);
  CHECK(t.records()[1].eligible);
  CHECK_FALSE(t.records()[2].eligible);  // the donor is avoided again: a synced node can serve
}

TEST_CASE("a drained synced node does not make a lone donor lose its clients") {
  auto t = healthy_table(2);
  t.find(1)->intent.admin = admin_state::drain;
  set_state(t, 2, donor());
  CHECK(t.records()[1].eligible);
}

TEST_CASE("the unavailable reason counts nodes by what keeps them out") {
  auto t = healthy_table(3);
  set_state(t, 1, unreachable());
  set_state(t, 2, non_primary());
  set_state(t, 3, unreachable());
  CHECK(t.unavailable_reason() == "no Galera node is available (3 configured: 2 down, 1 non-Primary)");
}

TEST_CASE("the unavailable reason covers unchecked, joining and rising nodes") {
  routing_table t;
  t.add(1, "", "127.0.0.1:1", 1, {.rise = 2});
  t.add(2, "", "127.0.0.1:2", 1, {.rise = 2});
  t.add(3, "", "127.0.0.1:3", 1, {.rise = 2});
  t.observe(2, seen({.local_state = 1, .comment = "Joining"}));
  t.observe(3, seen());
  t.refresh(donor_policy::avoid);
  CHECK(t.unavailable_reason() == "no Galera node is available (3 configured: 1 down, 1 joining, 1 rising)");
  CHECK(routing_table{}.unavailable_reason() == "no Galera node is configured");
}

TEST_CASE("a node's name is the configured one, else wsrep_node_name, else its address") {
  routing_table t;
  t.add(1, "galera-db-01", "192.0.2.1:3306", 1, {.rise = 1});
  t.add(2, "", "192.0.2.2:3306", 1, {.rise = 1});
  t.add(3, "", "192.0.2.3:3306", 1, {.rise = 1});
  observation o = seen();
  o.node_name = "from-wsrep";
  t.observe(1, o);
  t.observe(2, o);
  CHECK(t.find(1)->name() == "galera-db-01");
  CHECK(t.find(2)->name() == "from-wsrep");
  CHECK(t.find(3)->name() == "192.0.2.3:3306");
  t.observe(2, unreachable());  // a failed check keeps the name it had
  CHECK(t.find(2)->name() == "from-wsrep");
}

TEST_CASE("peers_of takes the freshest conf_id of the majority history among reachable Primary peers") {
  routing_table t;
  for (node_id i = 1; i <= 4; ++i) t.add(i, "", "a" + std::to_string(i), 1, {.rise = 1});
  t.observe(1, seen({.conf_id = 5}));
  t.observe(2, seen({.conf_id = 6}));
  t.observe(3, seen({.conf_id = 99, .uuid = "other"}));
  t.observe(4, unreachable());
  const peer_view v = t.peers_of(4);
  CHECK(v.any);
  CHECK(v.cluster_state_uuid == node_view{}.uuid);
  CHECK(v.max_conf_id == 6);
  CHECK(t.peers_of(2).max_conf_id == 5);
}

TEST_CASE("removing a node takes it out of picks") {
  auto t = healthy_table(2);
  t.remove(1);
  t.refresh(donor_policy::avoid);
  CHECK(t.find(1) == nullptr);
  for (int i = 0; i < 4; ++i) CHECK(*t.pick(balance_policy::leastconn) == 2);
}

TEST_CASE("every admin state with every health: only ready and healthy takes new clients") {
  const std::vector<std::pair<std::string, observation>> healths{
      {"synced", seen()}, {"donor", donor()}, {"non-primary", non_primary()}, {"down", unreachable()}};
  for (const auto& [health_name, obs] : healths) {
    for (admin_state admin : {admin_state::ready, admin_state::drain, admin_state::maint}) {
      // Node 1 under test; node 2 synced and drained so that it never changes the donor rule.
      auto t = healthy_table(2);
      t.find(2)->intent.admin = admin_state::drain;
      t.find(1)->intent.admin = admin;
      for (int k = 0; k < 2; ++k) set_state(t, 1, obs);
      const bool healthy = health_name == "synced" || health_name == "donor";
      INFO(health_name << " + " << to_string(admin));
      CHECK(t.find(1)->eligible == (healthy && admin == admin_state::ready));
      // The admin state is the operator's and health is the monitor's: neither writes the other.
      CHECK(t.find(1)->intent.admin == admin);
      CHECK(t.find(1)->tracker.current().up == healthy);
    }
  }
}

TEST_CASE("health coming back does not undo a drain") {
  auto t = healthy_table(3);
  t.find(2)->intent.admin = admin_state::drain;
  for (int k = 0; k < 3; ++k) set_state(t, 2, unreachable());
  for (int k = 0; k < 3; ++k) set_state(t, 2, seen());
  CHECK(t.find(2)->tracker.current().up);
  CHECK(t.find(2)->intent.admin == admin_state::drain);
  CHECK_FALSE(t.find(2)->eligible);
}

TEST_CASE("the last-node guard: draining the only eligible node is refused, any other is not") {
  auto t = healthy_table(3);
  CHECK(t.others_eligible_without(1, donor_policy::avoid));
  t.find(2)->intent.admin = admin_state::drain;
  for (int k = 0; k < 3; ++k) set_state(t, 3, unreachable());
  CHECK_FALSE(t.others_eligible_without(1, donor_policy::avoid));
  CHECK(t.others_eligible_without(3, donor_policy::avoid));  // node 1 still serves
  // The guard judges a copy: the table itself is untouched.
  CHECK(t.find(1)->intent.admin == admin_state::ready);
  CHECK(t.find(1)->eligible);
}

TEST_CASE("the last-node guard counts a donor that would take over as someone to serve") {
  auto t = healthy_table(2);
  set_state(t, 2, donor());
  REQUIRE_FALSE(t.find(2)->eligible);  // avoided while node 1 is synced
  CHECK(t.others_eligible_without(1, donor_policy::avoid));
  for (int k = 0; k < 3; ++k) set_state(t, 2, unreachable());
  CHECK_FALSE(t.others_eligible_without(1, donor_policy::avoid));
}

TEST_CASE("the others summary names every other node with its state and any intent") {
  auto t = healthy_table(3);
  t.find(2)->intent.admin = admin_state::drain;
  for (int k = 0; k < 3; ++k) set_state(t, 3, unreachable());
  CHECK(t.others_summary(1) == "n2 synced drain, n3 down");
  CHECK(healthy_table(1).others_summary(1) == "none configured");
}

TEST_CASE("a node's weight is the operator's override while it is set, else the configured one") {
  auto t = healthy_table(2, 2, {1, 1});
  t.find(1)->intent.weight = 3;
  CHECK(t.find(1)->weight() == 3);
  auto counts = pick_many(t, balance_policy::leastconn, 40);
  CHECK(counts == std::map<node_id, int>{{1, 30}, {2, 10}});
  t.find(1)->intent.weight.reset();
  CHECK(t.find(1)->weight() == 1);
}

TEST_CASE("a check goes into its node's record: the latency into the poll histogram, a failure into the errors") {
  routing_table t;
  t.add(1, "", "127.0.0.1:3306", 1, {});
  observation good = seen();
  good.latency = std::chrono::microseconds(700);
  t.observe(1, good);
  t.observe(1, unreachable());
  const monitor_figures& m = t.find(1)->monitor;
  CHECK(m.poll.count == 1);
  CHECK(m.poll.cumulative[0] == 0);  // above 0.5 ms
  CHECK(m.poll.cumulative[1] == 1);  // within 1 ms
  CHECK(m.errors == 1);
  CHECK(m.recent.entries().size() == 1);
  CHECK_FALSE(m.last.status);
  t.observe(7, seen());  // a node a reload removed: nothing to record
  CHECK(t.records().size() == 1);
}

TEST_CASE("a suspect node takes no new client and says so in the unavailable reason") {
  auto t = healthy_table(2);
  set_state(t, 1, late());
  set_state(t, 2, late());
  CHECK_FALSE(t.pick(balance_policy::leastconn));
  CHECK(t.unavailable_reason() == "no Galera node is available (2 configured: 2 suspect)");
  CHECK_FALSE(t.expire_suspects(mono_clock::time_point{} + std::chrono::seconds(4)));
  CHECK(t.expire_suspects(mono_clock::time_point{} + std::chrono::seconds(5)));
  CHECK(t.unavailable_reason() == "no Galera node is available (2 configured: 2 down)");
}
