#include <catch2/catch.hpp>

#include <algorithm>

#include "agent/cluster/cluster_model.hpp"
#include "tests/unit/agent/cluster/model_fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;
using namespace std::chrono_literals;

namespace {
const std::string no_node = "no Galera node is available (3 configured: 3 down)";

bool has(const std::vector<advisory>& list, std::string_view id) {
  return std::ranges::any_of(list, [&](const advisory& a) { return a.id == id; });
}

const advisory& find(const std::vector<advisory>& list, std::string_view id) {
  auto it = std::ranges::find_if(list, [&](const advisory& a) { return a.id == id; });
  REQUIRE(it != list.end());
  return *it;
}

/// Feeds the same nodes every 250 ms from `from_ms` up to and including `to_ms`.
cluster_model::result run(cluster_model& m, const std::vector<node_snapshot>& nodes, long long from_ms,
                          long long to_ms) {
  cluster_model::result r;
  for (long long t = from_ms; t <= to_ms; t += 250) r = m.update(nodes, no_node, std::nullopt, at_ms(t));
  return r;
}

std::vector<node_snapshot> isolated_n3() {
  auto nodes = healthy_cluster();
  nodes[2] = member({.name = "n3", .address = "127.0.0.1:3308", .state = galera_state::non_primary,
                     .eligible = false, .cluster_status = "non-Primary", .conf_id = 18446744073709551615ull, .size = 1,
                     .incoming = "127.0.0.1:3308"});
  for (auto& n : nodes) n.status->cluster_size = n.name == "n3" ? 1 : 2;
  return nodes;
}
}  // namespace

TEST_CASE("a healthy cluster is one Primary partition and raises nothing") {
  cluster_model m;
  const auto r = run(m, healthy_cluster(), 0, 20000);
  CHECK(r.cluster.name == "prod");
  CHECK(r.cluster.status == "Primary");
  CHECK(r.cluster.size == 3);
  CHECK(r.cluster.conf_id == 7);
  REQUIRE(r.cluster.partitions.size() == 1);
  CHECK(r.cluster.partitions[0].nodes == std::vector<std::string>{"n1", "n2", "n3"});
  CHECK(r.cluster.partitions[0].members.size() == 3);
  CHECK(r.advisories.empty());
}

TEST_CASE("no reachable node: the cluster is down with no partition") {
  cluster_model m;
  std::vector<node_snapshot> nodes{member({.reachable = false})};
  const auto r = m.update(nodes, no_node, std::nullopt, at_ms(0));
  CHECK(r.cluster.status == "down");
  CHECK(r.cluster.partitions.empty());
}

TEST_CASE("an isolated node is a second partition and raises partitioned after 2 s") {
  cluster_model m;
  run(m, healthy_cluster(), 0, 1000);
  auto r = run(m, isolated_n3(), 1250, 2750);
  REQUIRE(r.cluster.partitions.size() == 2);
  CHECK(r.cluster.partitions[0].nodes == std::vector<std::string>{"n1", "n2"});  // the reference comes first
  CHECK(r.cluster.partitions[1].status == "non-Primary");
  CHECK_FALSE(has(r.advisories, "partitioned"));  // 1.5 s: not yet

  r = run(m, isolated_n3(), 3000, 3500);
  REQUIRE(has(r.advisories, "partitioned"));
  const advisory& a = find(r.advisories, "partitioned");
  CHECK(a.severity == severity::critical);
  CHECK(a.nodes == std::vector<std::string>{"n3"});
  CHECK(a.message.find("non-Primary") != std::string::npos);
}

TEST_CASE("partitioned clears 5 s after the cluster heals, not before") {
  cluster_model m;
  run(m, isolated_n3(), 0, 5000);
  auto r = run(m, healthy_cluster(), 5250, 9750);
  CHECK(has(r.advisories, "partitioned"));
  r = run(m, healthy_cluster(), 10000, 10500);
  CHECK_FALSE(has(r.advisories, "partitioned"));
  CHECK(r.changes.raised.empty());
}

TEST_CASE("a condition that blinks off for less than the clear period does not flap") {
  cluster_model m;
  run(m, isolated_n3(), 0, 5000);
  auto r = run(m, healthy_cluster(), 5250, 6000);
  CHECK(r.changes.cleared.empty());
  r = run(m, isolated_n3(), 6250, 6250);
  CHECK(has(r.advisories, "partitioned"));
  CHECK(r.changes.raised.empty());  // still the same advisory: nothing new logged
}

TEST_CASE("a raise and a clear are each reported once") {
  cluster_model m;
  run(m, healthy_cluster(), 0, 0);
  int raised = 0, cleared = 0;
  for (long long t = 250; t <= 20000; t += 250) {
    const auto r = m.update(t < 8000 ? isolated_n3() : healthy_cluster(), no_node, std::nullopt, at_ms(t));
    raised += static_cast<int>(std::ranges::count_if(r.changes.raised, [](auto& a) { return a.id == "partitioned"; }));
    cleared += static_cast<int>(std::ranges::count_if(r.changes.cleared, [](auto& a) { return a.id == "partitioned"; }));
  }
  CHECK(raised == 1);
  CHECK(cleared == 1);
}

TEST_CASE("two members and no arbitrator raise two_node_no_arbitrator, a third member clears it") {
  const std::string pair = "127.0.0.1:3306,127.0.0.1:3307";
  std::vector<node_snapshot> two{member({.name = "n1", .address = "127.0.0.1:3306", .size = 2, .incoming = pair}),
                                 member({.name = "n2", .address = "127.0.0.1:3307", .size = 2, .incoming = pair})};
  cluster_model m;
  auto r = run(m, two, 0, 9750);
  CHECK_FALSE(has(r.advisories, "two_node_no_arbitrator"));  // a restart of a 3-node cluster looks like this briefly
  r = run(m, two, 10000, 10000);
  REQUIRE(has(r.advisories, "two_node_no_arbitrator"));
  CHECK(find(r.advisories, "two_node_no_arbitrator").nodes == std::vector<std::string>{"n1", "n2"});
  CHECK(find(r.advisories, "two_node_no_arbitrator").message.find("garbd") != std::string::npos);

  // garbd joins: three members, one without a client address.
  for (auto& n : two) {
    n.status->cluster_size = 3;
    n.status->incoming_addresses = pair + ",";
  }
  r = run(m, two, 10250, 15500);
  CHECK_FALSE(has(r.advisories, "two_node_no_arbitrator"));
  CHECK_FALSE(has(r.advisories, "member_not_configured"));  // the arbitrator has no client address to balance to
}

TEST_CASE("two nodes with the same wsrep_node_name raise duplicate_node_name at once, by address") {
  auto nodes = healthy_cluster();
  nodes[0].node_name = nodes[1].node_name = "galera-db-01";
  cluster_model m;
  const auto r = m.update(nodes, no_node, std::nullopt, at_ms(0));
  REQUIRE(has(r.advisories, "duplicate_node_name"));
  const advisory& a = find(r.advisories, "duplicate_node_name");
  CHECK(a.nodes == std::vector<std::string>{"127.0.0.1:3306", "127.0.0.1:3307"});
  CHECK(a.message.find("'galera-db-01'") != std::string::npos);
}

TEST_CASE("a node of another cluster raises node_not_in_cluster and is no partition") {
  auto nodes = healthy_cluster();
  nodes[2] = member({.name = "n3", .address = "127.0.0.1:3308", .uuid = "c2c2c2c2-0000-11ee-8000-000000000002",
                     .cluster_name = "staging"});
  cluster_model m;
  const auto r = run(m, nodes, 0, 2000);
  CHECK(r.cluster.partitions.size() == 1);
  CHECK(r.cluster.name == "prod");
  REQUIRE(has(r.advisories, "node_not_in_cluster"));
  CHECK(find(r.advisories, "node_not_in_cluster").nodes == std::vector<std::string>{"n3"});
  CHECK(find(r.advisories, "node_not_in_cluster").message.find("'staging'") != std::string::npos);
}

TEST_CASE("a joiner without a state uuid is neither another cluster nor a partition") {
  auto nodes = healthy_cluster();
  nodes[2] = member({.name = "n3", .address = "127.0.0.1:3308", .state = galera_state::joining, .eligible = false,
                     .uuid = "00000000-0000-0000-0000-000000000000"});
  cluster_model m;
  const auto r = run(m, nodes, 0, 5000);
  CHECK(r.cluster.partitions.size() == 1);
  CHECK(r.advisories.empty());
}

TEST_CASE("a member galeratopd does not balance to raises member_not_configured after 10 s") {
  auto nodes = healthy_cluster();
  for (auto& n : nodes) n.status->incoming_addresses = "127.0.0.1:3306,127.0.0.1:3307,127.0.0.1:3308,10.0.0.9:3306";
  cluster_model m;
  auto r = run(m, nodes, 0, 9750);
  CHECK_FALSE(has(r.advisories, "member_not_configured"));
  r = run(m, nodes, 10000, 10000);
  REQUIRE(has(r.advisories, "member_not_configured"));
  CHECK(find(r.advisories, "member_not_configured").nodes == std::vector<std::string>{"10.0.0.9:3306"});
}

TEST_CASE("a node configured by host name matches its member address through the resolved address") {
  auto nodes = healthy_cluster();
  nodes[0].address = "db1.example:3306";
  nodes[0].resolved = "127.0.0.1:3306";
  cluster_model m;
  const auto r = run(m, nodes, 0, 15000);
  CHECK_FALSE(has(r.advisories, "member_not_configured"));
}

TEST_CASE("flow control above the threshold names the node that sends it") {
  cluster_model m;  // 10 % over 10 s by default
  for (long long t = 0; t <= 12000; t += 250) {
    const double seconds = static_cast<double>(t) / 1000;
    std::vector<node_snapshot> nodes{
        member({.name = "n1", .address = "127.0.0.1:3306", .paused_ns = seconds * 0.5e9}, at_ms(t)),
        member({.name = "n2", .address = "127.0.0.1:3307", .paused_ns = seconds * 0.5e9, .fc_sent = seconds * 4},
               at_ms(t)),
        member({.name = "n3", .address = "127.0.0.1:3308"}, at_ms(t))};
    const auto r = m.update(nodes, no_node, std::nullopt, at_ms(t));
    if (t < 12000) continue;
    REQUIRE(has(r.advisories, "flow_control"));
    const advisory& a = find(r.advisories, "flow_control");
    CHECK(a.nodes == std::vector<std::string>{"n2"});
    CHECK(a.message.find("50%") != std::string::npos);
    CHECK(a.message.find("n1, n2") != std::string::npos);
  }
}

TEST_CASE("flow control below the threshold raises nothing") {
  cluster_model m;
  cluster_model::result r;
  for (long long t = 0; t <= 12000; t += 250) {
    const double seconds = static_cast<double>(t) / 1000;
    std::vector<node_snapshot> nodes{
        member({.name = "n1", .address = "127.0.0.1:3306", .paused_ns = seconds * 0.05e9, .fc_sent = seconds},
               at_ms(t))};
    r = m.update(nodes, no_node, std::nullopt, at_ms(t));
  }
  CHECK_FALSE(has(r.advisories, "flow_control"));
}

TEST_CASE("no eligible node raises no_eligible_node with the routing table's reason") {
  auto nodes = healthy_cluster();
  for (auto& n : nodes) n.eligible = false;  // e.g. all drained
  cluster_model m;
  auto r = run(m, nodes, 0, 750);
  CHECK_FALSE(has(r.advisories, "no_eligible_node"));
  r = run(m, nodes, 1000, 1000);
  REQUIRE(has(r.advisories, "no_eligible_node"));
  CHECK(find(r.advisories, "no_eligible_node").message == no_node);
}

TEST_CASE("nodes not checked yet do not raise no_eligible_node") {
  std::vector<node_snapshot> nodes(3);  // unknown, not eligible: galeratopd just started
  cluster_model m;
  const auto r = run(m, nodes, 0, 5000);
  CHECK(r.advisories.empty());
}

TEST_CASE("a lone donor that serves raises donor_serving") {
  std::vector<node_snapshot> nodes{member({.name = "n1", .state = galera_state::donor}),
                                   member({.name = "n2", .address = "127.0.0.1:3307", .reachable = false})};
  cluster_model m;
  const auto r = run(m, nodes, 0, 1000);
  REQUIRE(has(r.advisories, "donor_serving"));
  CHECK(find(r.advisories, "donor_serving").nodes == std::vector<std::string>{"n1"});
}

TEST_CASE("a node desynced for longer than desync_long raises desync_long") {
  auto nodes = healthy_cluster();
  nodes[1] = member({.name = "n2", .address = "127.0.0.1:3307", .state = galera_state::donor, .eligible = false});
  cluster_model m(model_settings{.desync_long = 60s});
  auto r = run(m, nodes, 0, 59750);
  CHECK_FALSE(has(r.advisories, "desync_long"));
  r = run(m, nodes, 60000, 60000);
  REQUIRE(has(r.advisories, "desync_long"));
  CHECK(find(r.advisories, "desync_long").message.find("60s") != std::string::npos);
  r = run(m, healthy_cluster(), 60250, 66000);
  CHECK_FALSE(has(r.advisories, "desync_long"));
}

TEST_CASE("every node down raises cluster_down naming the bootstrap candidate") {
  std::vector<node_snapshot> nodes{member({.name = "n1", .reachable = false}),
                                   member({.name = "n2", .address = "127.0.0.1:3307", .reachable = false})};
  const bootstrap_candidate c{"n2", "127.0.0.1:3307", 42, "uuid", "evidence", "on n2: galera_new_cluster"};
  cluster_model m;
  const auto r = m.update(nodes, no_node, c, at_ms(0));
  REQUIRE(has(r.advisories, "cluster_down"));
  CHECK(find(r.advisories, "cluster_down").message.find("bootstrap n2 (seqno 42)") != std::string::npos);
  CHECK(r.advisories.front().severity == severity::critical);  // most severe first
}

TEST_CASE("advisory ids are unique and cover every advisory the model raises") {
  const auto& ids = cluster_model::advisory_ids();
  std::vector<std::string_view> names;
  for (const auto& [id, level] : ids) names.push_back(id);
  std::ranges::sort(names);
  CHECK(std::ranges::adjacent_find(names) == names.end());
  for (std::string_view id : {"partitioned", "two_node_no_arbitrator", "duplicate_node_name", "node_not_in_cluster",
                              "member_not_configured", "flow_control", "no_eligible_node", "donor_serving",
                              "desync_long", "cluster_down"})
    CHECK(std::ranges::find(names, id) != names.end());
}

TEST_CASE("an agent of the group that follows another writer raises writer_disagreement, naming it") {
  cluster_model m;
  writer_snapshot w;
  w.row_node = "127.0.0.1:3307";
  w.epoch = 7;
  w.agents = {{"agent-b", "127.0.0.1:3307", 7, 1.0, true}, {"agent-c", "127.0.0.1:3306", 6, 2.0, false}};
  w.agents_disagreeing = 1;
  const auto r = m.update(healthy_cluster(), no_node, std::nullopt, at_ms(0), w);
  REQUIRE(has(r.advisories, "writer_disagreement"));
  CHECK(find(r.advisories, "writer_disagreement").severity == severity::critical);
  CHECK(find(r.advisories, "writer_disagreement").message ==
        "1 agent(s) of the group follow another writer than galeratop.writer (127.0.0.1:3307 at epoch 7): agent-c "
        "follows 127.0.0.1:3306 at epoch 6; their writes certify against this one's (ERROR 1213)");
  w.agents[1].agrees = true;
  w.agents_disagreeing = 0;
  cluster_model::result r2;
  for (long long t = 250; t <= 20000; t += 250) r2 = m.update(healthy_cluster(), no_node, std::nullopt, at_ms(t), w);
  CHECK_FALSE(has(r2.advisories, "writer_disagreement"));
}

TEST_CASE("certification conflicts growing on the writer raise writes_off_writer, on another node they do not") {
  cluster_model m;
  writer_snapshot w;
  auto nodes = healthy_cluster();
  nodes[1].writer = true;  // n2
  auto conflicts = [&](std::size_t i, const char* n) { nodes[i].status->raw["wsrep_local_cert_failures"] = n; };
  conflicts(0, "3");
  conflicts(1, "5");
  CHECK_FALSE(has(m.update(nodes, no_node, std::nullopt, at_ms(0), w).advisories, "writes_off_writer"));
  conflicts(0, "40");  // not the writer: a balance listener's own conflicts, nothing about the writer
  CHECK_FALSE(has(m.update(nodes, no_node, std::nullopt, at_ms(250), w).advisories, "writes_off_writer"));
  conflicts(1, "6");
  const auto r = m.update(nodes, no_node, std::nullopt, at_ms(500), w);
  REQUIRE(has(r.advisories, "writes_off_writer"));
  CHECK(find(r.advisories, "writes_off_writer").nodes == std::vector<std::string>{"n2"});
  // Quiet for the window: it clears (after the tracker's hold-down).
  const auto later = run(m, nodes, 750, 20000);
  CHECK_FALSE(has(later.advisories, "writes_off_writer"));
}
