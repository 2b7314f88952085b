#include <catch2/catch.hpp>

#include "agent/cluster/snapshot.hpp"
#include "tests/unit/balancer/core/fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;

TEST_CASE("a node's snapshot shows its record: intent, effective weight, health, traffic and monitor figures") {
  auto t = healthy_table(2);
  node_record& r = *t.find(2);
  r.intent.admin = admin_state::drain;
  r.intent.weight = 7;
  r.intent.version = 4;
  r.connections = 3;
  r.traffic.connections_total = 11;
  r.traffic.bytes->in = 100;
  r.traffic.bytes->out = 900;
  r.resolved = {"127.0.0.1", 3307};
  t.refresh(donor_policy::avoid);
  const node_snapshot n = snapshot_of(r);
  CHECK(n.name == "n2");
  CHECK(n.address == "127.0.0.1:3307");
  CHECK(n.resolved == "127.0.0.1:3307");
  CHECK(n.state == galera_state::synced);
  CHECK(n.up);
  CHECK_FALSE(n.eligible);
  CHECK(n.admin == admin_state::drain);
  CHECK(n.intent_version == 4);
  CHECK(n.weight == 7);
  CHECK(n.connections == 3);
  CHECK(n.connections_total == 11);
  CHECK(n.bytes_in == 100);
  CHECK(n.bytes_out == 900);
  CHECK(n.monitor_up);
  CHECK(n.poll.count == 2);  // healthy_table checks every node twice
  CHECK(n.status->cluster_status == "Primary");
}
