#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <prometheus/text_serializer.h>
#include <set>
#include <sstream>

#include "agent/cluster/snapshot_json.hpp"
#include "exporters/metric_families.hpp"
#include "tests/unit/agent/cluster/model_fixtures.hpp"

using namespace galeratop;
using namespace galeratop::test;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {
snapshot sample() {
  snapshot s;
  s.version = "9.9.9";
  s.nodes = healthy_cluster();
  s.nodes[1].state = galera_state::donor;
  s.nodes[1].admin = admin_state::drain;
  s.nodes[0].connections = 4;
  s.nodes[0].connections_total = 17;
  s.nodes[0].poll.record(0.0004);
  s.nodes[0].poll.record(0.003);
  s.nodes[0].poll.record(7.0);
  s.nodes[0].queries_total = 120;
  s.nodes[0].query_latency.cumulative = {60, 90, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 101};
  s.nodes[0].query_latency.sum = 6.25;
  s.nodes[0].in_transaction = 2;
  s.nodes[0].opaque = 1;
  s.nodes[0].opaque_total = 3;
  s.nodes[0].safe_closes_total = 5;
  s.nodes[0].sessions_cut_total = 1;
  s.nodes[2] = member({.name = "n3", .address = "127.0.0.1:3308", .reachable = false});
  s.cluster.status = "Primary";
  s.cluster.size = 2;
  s.cluster.partitions.resize(1);
  s.advisories = {{"two_node_no_arbitrator", severity::warning, {"n1", "n2"}, "add garbd"},
                  {"no_eligible_node", severity::critical, {}, "none"}};
  s.frontend.rejected_total = 3;
  s.frontend.rejected_no_node = 2;
  s.frontend.rejected_limit = 1;
  s.frontend.max_connections = 9936;
  s.frontend.waiting = 2;
  s.frontend.waits_served = 40;
  s.frontend.waits_refused = 3;
  s.frontend.waits_abandoned = 1;
  s.frontend.longest_wait_seconds = 0.35;
  return s;
}

const MetricFamily& family(const std::vector<MetricFamily>& all, std::string_view name) {
  auto it = std::ranges::find_if(all, [&](const MetricFamily& f) { return f.name == name; });
  INFO(name);
  REQUIRE(it != all.end());
  return *it;
}

std::string label(const prometheus::ClientMetric& m, std::string_view name) {
  for (const auto& l : m.label)
    if (l.name == name) return l.value;
  return "<none>";
}

/// What every exposition must keep: HELP on each family, unique names, counters ending in _total.
void check_exposition_rules(const std::vector<MetricFamily>& all) {
  std::set<std::string> names;
  for (const MetricFamily& f : all) {
    INFO(f.name);
    CHECK_FALSE(f.help.empty());
    CHECK(names.insert(f.name).second);
    if (f.type == MetricType::Counter) CHECK(f.name.ends_with("_total"));
  }
}
}  // namespace

TEST_CASE("status values are read the way mysqld_exporter reads them") {
  CHECK(parse_status_value("ON") == 1.0);
  CHECK(parse_status_value("OFF") == 0.0);
  CHECK(parse_status_value("Primary") == 1.0);
  CHECK(parse_status_value("non-Primary") == 0.0);
  CHECK(parse_status_value("Disconnected") == 0.0);
  CHECK(parse_status_value("0.250000") == 0.25);
  CHECK(parse_status_value("42") == 42.0);
  CHECK_FALSE(parse_status_value("Synced").has_value());
  CHECK_FALSE(parse_status_value("0/0/0/0/0").has_value());
  // Found by fuzz_wsrep_status: from_chars reads these as numbers; they are not measurements.
  CHECK_FALSE(parse_status_value("nan").has_value());
  CHECK_FALSE(parse_status_value("inf").has_value());
  CHECK_FALSE(parse_status_value("-INF").has_value());
  CHECK_FALSE(parse_status_value("").has_value());
}

TEST_CASE("every family has HELP, a unique name, and counters end in _total") {
  const auto all = metric_families(sample());
  check_exposition_rules(all);
  for (const MetricFamily& f : all) {
    INFO(f.name);
    if (f.name.starts_with("mysql_global_status_")) CHECK(f.type == MetricType::Untyped);
  }
}

TEST_CASE("wsrep status becomes mysqld_exporter's families with node and address labels") {
  const auto all = metric_families(sample());
  const MetricFamily& state = family(all, "mysql_global_status_wsrep_local_state");
  CHECK(state.help == "Generic metric from SHOW GLOBAL STATUS.");
  REQUIRE(state.metric.size() == 2);  // n3 is unreachable: no status to show
  CHECK(label(state.metric[0], "node") == "n1");
  CHECK(label(state.metric[0], "address") == "127.0.0.1:3306");
  CHECK(state.metric[0].untyped.value == 4);
  CHECK(family(all, "mysql_global_status_wsrep_cluster_status").metric[0].untyped.value == 1);
  CHECK(family(all, "mysql_global_status_wsrep_last_committed").metric[0].untyped.value == 100);
  for (const MetricFamily& f : all) {
    CHECK(f.name != "mysql_global_status_wsrep_local_state_comment");  // text: skipped like mysqld_exporter does
    CHECK(f.name != "mysql_global_status_wsrep_evs_repl_latency");
    CHECK(f.name != "mysql_global_status_wsrep_flow_control_paused_ns");  // promtool: no abbreviated units
  }
  const MetricFamily& info = family(all, "mysql_galera_status_info");
  CHECK(label(info.metric[0], "wsrep_provider_version") == "26.4.23(r1234)");
}

TEST_CASE("mysql_up says which nodes the monitor reaches") {
  const auto all = metric_families(sample());
  const MetricFamily& up = family(all, "mysql_up");
  REQUIRE(up.metric.size() == 3);
  CHECK(up.metric[0].gauge.value == 1);
  CHECK(up.metric[2].gauge.value == 0);
}

TEST_CASE("health and admin state are one-hot label sets") {
  const auto all = metric_families(sample());
  for (std::string_view name : {"galeratop_node_state", "galeratop_node_admin_state"}) {
    const MetricFamily& f = family(all, name);
    for (std::string node : {"n1", "n2", "n3"}) {
      double ones = 0;
      std::string current;
      for (const auto& m : f.metric)
        if (label(m, "node") == node) {
          ones += m.gauge.value;
          if (m.gauge.value == 1) current = label(m, "state");
        }
      INFO(name << " " << node);
      CHECK(ones == 1);
      if (node == "n2") CHECK(current == (name == "galeratop_node_state" ? "donor" : "drain"));
      if (node == "n3" && name == "galeratop_node_state") CHECK(current == "down");
    }
  }
}

TEST_CASE("balancer counters and gauges carry the snapshot's figures") {
  const auto all = metric_families(sample());
  CHECK(family(all, "galeratop_node_current_connections").metric[0].gauge.value == 4);
  CHECK(family(all, "galeratop_node_connections_total").type == MetricType::Counter);
  CHECK(family(all, "galeratop_node_connections_total").metric[0].counter.value == 17);
  const auto& rejected = family(all, "galeratop_frontend_rejected_total").metric;
  REQUIRE(rejected.size() == 2);
  CHECK(label(rejected[0], "reason") == "no_node");
  CHECK(rejected[0].counter.value == 2);
  CHECK(label(rejected[1], "reason") == "max_connections");
  CHECK(rejected[1].counter.value == 1);
  CHECK(family(all, "galeratop_frontend_max_connections").metric[0].gauge.value == 9936);
  CHECK(family(all, "galeratop_cluster_size").metric[0].gauge.value == 2);
  CHECK(family(all, "galeratop_cluster_partitions").metric[0].gauge.value == 1);
  CHECK(family(all, "galeratop_cluster_primary").metric[0].gauge.value == 1);
  CHECK(label(family(all, "galeratop_build_info").metric[0], "version") == "9.9.9");
  CHECK(family(all, "galeratop_node_flow_control_paused_seconds_total").type == MetricType::Counter);
}

TEST_CASE("held clients are a gauge, their holds a counter by outcome, and the longest hold a gauge") {
  const auto all = metric_families(sample());
  CHECK(family(all, "galeratop_frontend_waiting").metric[0].gauge.value == 2);
  const auto& waits = family(all, "galeratop_frontend_waits_total");
  CHECK(waits.type == MetricType::Counter);
  REQUIRE(waits.metric.size() == 3);
  CHECK(label(waits.metric[0], "outcome") == "served");
  CHECK(waits.metric[0].counter.value == 40);
  CHECK(label(waits.metric[1], "outcome") == "refused");
  CHECK(waits.metric[1].counter.value == 3);
  CHECK(label(waits.metric[2], "outcome") == "abandoned");
  CHECK(waits.metric[2].counter.value == 1);
  CHECK(family(all, "galeratop_frontend_wait_longest_seconds").metric[0].gauge.value == 0.35);
}

TEST_CASE("a suspect node is a gauge while it lasts and a count of the times it began") {
  snapshot s = sample();
  s.nodes[2].suspect = true;
  s.nodes[2].suspicions_total = 3;
  const auto all = metric_families(s);
  const auto& suspect = family(all, "galeratop_node_suspect").metric;
  REQUIRE(suspect.size() == 3);
  CHECK(suspect[0].gauge.value == 0);
  CHECK(suspect[2].gauge.value == 1);
  CHECK(label(suspect[2], "node") == "n3");
  CHECK(family(all, "galeratop_node_suspect_total").type == MetricType::Counter);
  CHECK(family(all, "galeratop_node_suspect_total").metric[2].counter.value == 3);
}

TEST_CASE("the poll histogram has cumulative buckets ending in +Inf") {
  const auto all = metric_families(sample());
  const MetricFamily& f = family(all, "galeratop_monitor_poll_seconds");
  CHECK(f.type == MetricType::Histogram);
  const auto& h = f.metric[0].histogram;
  CHECK(h.sample_count == 3);
  CHECK(h.sample_sum == Approx(7.0034));
  REQUIRE(h.bucket.size() == poll_histogram::bounds.size() + 1);
  CHECK(h.bucket.front().upper_bound == 0.0005);
  CHECK(h.bucket.front().cumulative_count == 1);
  CHECK(h.bucket[3].cumulative_count == 2);  // <= 5 ms
  CHECK(std::isinf(h.bucket.back().upper_bound));
  CHECK(h.bucket.back().cumulative_count == 3);  // 7 s is above every bound
  CHECK(std::ranges::is_sorted(h.bucket, {}, [](const auto& b) { return b.cumulative_count; }));
}

TEST_CASE("the relay's query figures are per-node families") {
  const auto all = metric_families(sample());
  const MetricFamily& queries = family(all, "galeratop_node_queries_total");
  CHECK(queries.type == MetricType::Counter);
  REQUIRE(queries.metric.size() == 3);
  CHECK(label(queries.metric[0], "node") == "n1");
  CHECK(label(queries.metric[0], "address") == "127.0.0.1:3306");
  CHECK(queries.metric[0].counter.value == 120);
  CHECK(queries.metric[1].counter.value == 0);
  const std::pair<const char*, double> gauges[] = {{"galeratop_node_sessions_in_transaction", 2},
                                                   {"galeratop_node_sessions_opaque", 1}};
  for (auto [name, value] : gauges) {
    INFO(name);
    CHECK(family(all, name).type == MetricType::Gauge);
    CHECK(family(all, name).metric.size() == 3);
    CHECK(family(all, name).metric[0].gauge.value == value);
  }
  const std::pair<const char*, double> counters[] = {{"galeratop_node_sessions_opaque_total", 3},
                                                     {"galeratop_node_safe_closes_total", 5},
                                                     {"galeratop_node_sessions_cut_total", 1}};
  for (auto [name, value] : counters) {
    INFO(name);
    CHECK(family(all, name).type == MetricType::Counter);
    CHECK(family(all, name).metric.size() == 3);
    CHECK(family(all, name).metric[0].counter.value == value);
  }
}

TEST_CASE("the query duration histogram has the relay's buckets, cumulative, ending in +Inf") {
  const auto all = metric_families(sample());
  const MetricFamily& f = family(all, "galeratop_node_query_duration_seconds");
  CHECK(f.type == MetricType::Histogram);
  REQUIRE(f.metric.size() == 3);
  CHECK(label(f.metric[0], "node") == "n1");
  const auto& h = f.metric[0].histogram;
  CHECK(h.sample_count == 101);
  CHECK(h.sample_sum == 6.25);
  REQUIRE(h.bucket.size() == query_latency_bounds.size() + 1);
  for (std::size_t i = 0; i < query_latency_bounds.size(); ++i)
    CHECK(h.bucket[i].upper_bound == query_latency_bounds[i]);
  CHECK(h.bucket[0].cumulative_count == 60);
  CHECK(h.bucket[1].cumulative_count == 90);
  CHECK(h.bucket[11].cumulative_count == 100);  // <= 5 s
  CHECK(std::isinf(h.bucket.back().upper_bound));
  CHECK(h.bucket.back().cumulative_count == 101);
  CHECK(f.metric[1].histogram.sample_count == 0);  // a node without queries still has its series
}

TEST_CASE("advisories are one series per node, node empty when cluster-wide") {
  const auto all = metric_families(sample());
  const MetricFamily& f = family(all, "galeratop_advisory");
  REQUIRE(f.metric.size() == 3);
  CHECK(label(f.metric[0], "id") == "two_node_no_arbitrator");
  CHECK(label(f.metric[0], "severity") == "warning");
  CHECK(label(f.metric[1], "node") == "n2");
  CHECK(label(f.metric[2], "node") == "");
  CHECK(label(f.metric[2], "severity") == "critical");
}

TEST_CASE("without advisories or a candidate their families are still declared") {
  snapshot s;
  const auto all = metric_families(s);
  CHECK(family(all, "galeratop_advisory").metric.empty());
  CHECK(family(all, "galeratop_bootstrap_candidate").metric.empty());
}

TEST_CASE("the exposition text types mysqld_exporter's families as untyped") {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, metric_families(sample()));
  const std::string out = text.str();
  CHECK(out.find("# TYPE mysql_global_status_wsrep_local_state untyped\n") != std::string::npos);
  CHECK(out.find("# HELP mysql_up Whether the MySQL server is up.\n") != std::string::npos);
  CHECK(out.find("galeratop_monitor_poll_seconds_bucket{node=\"n1\",address=\"127.0.0.1:3306\",le=\"+Inf\"} 3") !=
        std::string::npos);
  CHECK(out.find("# TYPE galeratop_node_query_duration_seconds histogram\n") != std::string::npos);
  CHECK(out.find("galeratop_node_query_duration_seconds_bucket{node=\"n1\",address=\"127.0.0.1:3306\",le=\"0.0005\"} "
                 "60\n") != std::string::npos);
}

TEST_CASE("the status JSON has the fields of the contract") {
  snapshot s = sample();
  s.cluster.name = "prod";
  s.bootstrap = bootstrap_candidate{"n3", "127.0.0.1:3308", 170, "u", "evidence", "command"};
  const auto j = to_json(s);
  for (const char* key : {"name", "size", "status", "conf_id", "partitions"}) CHECK(j["cluster"].contains(key));
  REQUIRE(j["nodes"].size() == 3);
  for (const char* key : {"name", "address", "state", "admin", "eligible", "connections", "connections_total"})
    CHECK(j["nodes"][0].contains(key));
  CHECK(j["nodes"][1]["state"] == "donor");
  CHECK(j["nodes"][1]["admin"] == "drain");
  CHECK(j["nodes"][2]["wsrep"].is_null());
  CHECK(j["advisories"][0]["id"] == "two_node_no_arbitrator");
  CHECK(j["advisories"][0]["nodes"] == nlohmann::json{"n1", "n2"});
  CHECK(j["bootstrap_candidate"]["node"] == "n3");
  CHECK(j["bootstrap_candidate"]["seqno"] == 170);
}

TEST_CASE("every exported wsrep variable is one the monitor asks the nodes for") {
  const auto monitored = monitored_wsrep_variables();
  for (std::string_view name : exported_wsrep_variables()) {
    INFO(name);
    CHECK(std::ranges::find(monitored, name) != monitored.end());
  }
}

namespace {
snapshot with_listeners() {
  snapshot s = sample();
  s.listeners = {{"app", "balance", "127.0.0.1:4306", 40, {{"n1", 3}, {"n2", 1}}},
                 {"rw", "writer", "127.0.0.1:4307", 9, {{"n2", 5}}}};
  s.nodes[1].writer = true;
  s.writer = writer_snapshot{};
  s.writer->node = "n2";
  s.writer->address = "127.0.0.1:3307";
  s.writer->row_node = "127.0.0.1:3307";
  s.writer->epoch = 7;
  s.writer->readable = true;
  s.writer->switches_total = 2;
  s.writer->waiting = 1;
  s.writer->agents_disagreeing = 1;
  return s;
}
}  // namespace

TEST_CASE("each listener has its connections on every configured node, none included, and its accepted count") {
  const auto all = metric_families(with_listeners());
  const MetricFamily& current = family(all, "galeratop_listener_current_connections");
  CHECK(current.type == MetricType::Gauge);
  REQUIRE(current.metric.size() == 6);  // 2 listeners x 3 nodes
  CHECK(label(current.metric[0], "listener") == "app");
  CHECK(label(current.metric[0], "role") == "balance");
  CHECK(label(current.metric[0], "node") == "n1");
  CHECK(label(current.metric[0], "address") == "127.0.0.1:3306");
  CHECK(current.metric[0].gauge.value == 3);
  CHECK(current.metric[1].gauge.value == 1);
  CHECK(current.metric[2].gauge.value == 0);  // n3: no session, still a series
  CHECK(label(current.metric[4], "listener") == "rw");
  CHECK(label(current.metric[4], "role") == "writer");
  CHECK(label(current.metric[4], "node") == "n2");
  CHECK(current.metric[4].gauge.value == 5);
  CHECK(current.metric[3].gauge.value == 0);
  const MetricFamily& accepted = family(all, "galeratop_listener_accepted_total");
  CHECK(accepted.type == MetricType::Counter);
  REQUIRE(accepted.metric.size() == 2);
  CHECK(label(accepted.metric[1], "listener") == "rw");
  CHECK(label(accepted.metric[1], "role") == "writer");
  CHECK(accepted.metric[1].counter.value == 9);
}

TEST_CASE("the writer families say which node writes, at which epoch, and whether the agents agree") {
  const auto all = metric_families(with_listeners());
  const MetricFamily& writer = family(all, "galeratop_node_writer");
  REQUIRE(writer.metric.size() == 3);
  CHECK(label(writer.metric[1], "node") == "n2");
  CHECK(label(writer.metric[1], "address") == "127.0.0.1:3307");
  CHECK(writer.metric[0].gauge.value == 0);
  CHECK(writer.metric[1].gauge.value == 1);
  CHECK(writer.metric[2].gauge.value == 0);
  const std::pair<const char*, double> gauges[] = {{"galeratop_writer_epoch", 7},
                                                   {"galeratop_writer_known", 1},
                                                   {"galeratop_writer_row_readable", 1},
                                                   {"galeratop_writer_waiting_clients", 1},
                                                   {"galeratop_writer_agents_disagreeing", 1}};
  for (auto [name, value] : gauges) {
    INFO(name);
    CHECK(family(all, name).type == MetricType::Gauge);
    REQUIRE(family(all, name).metric.size() == 1);
    CHECK(family(all, name).metric[0].label.empty());
    CHECK(family(all, name).metric[0].gauge.value == value);
  }
  CHECK(family(all, "galeratop_writer_switches_total").type == MetricType::Counter);
  CHECK(family(all, "galeratop_writer_switches_total").metric[0].counter.value == 2);
}

TEST_CASE("with no node to write to, writer_known is 0, and an unread row is not readable") {
  snapshot s = with_listeners();
  s.nodes[1].writer = false;
  s.writer->node.clear();
  s.writer->address.clear();
  s.writer->readable = false;
  s.writer->error = "no node is synced and up";
  const auto all = metric_families(s);
  CHECK(family(all, "galeratop_writer_known").metric[0].gauge.value == 0);
  CHECK(family(all, "galeratop_writer_row_readable").metric[0].gauge.value == 0);
  for (const auto& m : family(all, "galeratop_node_writer").metric) CHECK(m.gauge.value == 0);
}

TEST_CASE("without a writer listener no writer family is exported") {
  snapshot s = with_listeners();
  s.writer.reset();
  s.listeners.pop_back();
  s.nodes[1].writer = false;
  const auto all = metric_families(s);
  for (const MetricFamily& f : all) {
    INFO(f.name);
    CHECK_FALSE(f.name.starts_with("galeratop_writer_"));
    CHECK(f.name != "galeratop_node_writer");
  }
  CHECK(family(all, "galeratop_listener_current_connections").metric.size() == 3);
}

TEST_CASE("the listener and writer families pass the same exposition rules") {
  const auto all = metric_families(with_listeners());
  check_exposition_rules(all);
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, all);
  CHECK(text.str().find("galeratop_listener_current_connections{listener=\"rw\",role=\"writer\",node=\"n2\","
                        "address=\"127.0.0.1:3307\"} 5\n") != std::string::npos);
  CHECK(text.str().find("# TYPE galeratop_writer_switches_total counter\n") != std::string::npos);
}
