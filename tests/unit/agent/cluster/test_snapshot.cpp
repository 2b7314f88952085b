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
  r.traffic.live->in = 100;
  r.traffic.live->out = 900;
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

TEST_CASE("a node's snapshot reads the relay's session counters, with the latency buckets made cumulative") {
  auto t = healthy_table(1);
  node_record& r = *t.find(1);
  session_counters& live = *r.traffic.live;
  live.queries = 42;
  live.latency[0] = 10;   // up to 0.5 ms
  live.latency[3] = 20;   // (2 ms, 5 ms]
  live.latency[12] = 2;   // above 5 s
  live.latency_sum_us = 12'500'000;
  live.in_transaction = 3;
  live.opaque = 1;
  live.opaque_total = 4;
  live.safe_closes = 7;
  live.cuts = 2;
  const node_snapshot n = snapshot_of(r);
  CHECK(n.queries_total == 42);
  const query_buckets expected{10, 10, 10, 30, 30, 30, 30, 30, 30, 30, 30, 30, 32};
  CHECK(n.query_latency.cumulative == expected);
  CHECK(n.query_latency.count() == 32);
  CHECK(n.query_latency.sum == Approx(12.5));
  CHECK(n.in_transaction == 3);
  CHECK(n.opaque == 1);
  CHECK(n.opaque_total == 4);
  CHECK(n.safe_closes_total == 7);
  CHECK(n.sessions_cut_total == 2);
  // The recent figures need a window of samples: the agent sets them, snapshot_of cannot.
  CHECK(n.queries_per_second == 0);
  CHECK_FALSE(n.query_p99_seconds);
}
