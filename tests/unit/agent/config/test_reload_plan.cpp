#include <catch2/catch.hpp>

#include "agent/config/reload_plan.hpp"
#include "balancer/core/routing_table.hpp"

using namespace galeratop;

namespace {
node_config node(std::string host, std::uint16_t port, std::uint32_t weight = 1, std::string name = "") {
  node_config n;
  n.name = std::move(name);
  n.address = endpoint{std::move(host), port};
  n.weight = weight;
  return n;
}

/// The running nodes, as the routing table holds them.
routing_table running(const std::vector<node_config>& nodes) {
  routing_table t;
  node_id id = 10;
  for (const node_config& n : nodes) t.add(id++, n.name, n.address.to_string(), n.weight, {});
  return t;
}
}  // namespace

TEST_CASE("a reload keeps the nodes whose address stays, adds new ones and removes the missing, in its own order") {
  const auto t = running({node("10.0.0.1", 3306), node("10.0.0.2", 3306), node("10.0.0.3", 3306)});
  const std::vector<node_config> next{node("10.0.0.4", 3306), node("10.0.0.3", 3306), node("10.0.0.1", 3306)};
  const reload_plan p = plan_reload(t.records(), next);
  REQUIRE(p.nodes.size() == 3);
  CHECK_FALSE(p.nodes[0].running);
  CHECK(p.nodes[1].running == std::optional<node_id>(12));
  CHECK(p.nodes[2].running == std::optional<node_id>(10));
  CHECK(p.removed == std::vector<node_id>{11});
}

TEST_CASE("a reload marks a changed weight, a new name or a changed port is not the same node twice") {
  const auto t = running({node("db1", 3306, 1, "a"), node("db2", 3306)});
  const std::vector<node_config> next{node("db1", 3306, 5, "renamed"), node("db2", 3307)};
  const reload_plan p = plan_reload(t.records(), next);
  CHECK(p.nodes[0].running == std::optional<node_id>(10));
  CHECK(p.nodes[0].weight_changed);
  CHECK_FALSE(p.nodes[1].running);  // another port is another node
  CHECK(p.removed == std::vector<node_id>{11});
  const reload_plan same = plan_reload(t.records(), std::vector<node_config>{node("db1", 3306, 1), node("db2", 3306)});
  CHECK_FALSE(same.nodes[0].weight_changed);
  CHECK(same.removed.empty());
}

TEST_CASE("what only a restart can change keeps its running value, with one warning for each key changed") {
  config running_config;
  config next = running_config;
  CHECK(keep_start_only_keys(next, running_config).empty());
  next.listen = {"127.0.0.1", 3307};
  next.metrics = "";
  next.control_tcp = "127.0.0.1:9999";
  next.intents.group = "other";
  next.monitor.interval = std::chrono::milliseconds(500);  // takes effect at once: not kept
  const auto warnings = keep_start_only_keys(next, running_config);
  CHECK(warnings.size() == 4);
  CHECK(warnings[0] == "agent.listen changed to 127.0.0.1:3307: it takes effect at restart; still listening on "
                       "127.0.0.1:3306");
  CHECK(next.listen == running_config.listen);
  CHECK(next.metrics == running_config.metrics);
  CHECK(next.control_tcp.empty());
  CHECK(next.intents == running_config.intents);
  CHECK(next.monitor.interval == std::chrono::milliseconds(500));
}

TEST_CASE("a reload may change the control certificate and key, not whether TCP control speaks TLS") {
  config running_config;
  running_config.control_tls_cert = "/old.crt";
  config next = running_config;
  next.control_tls_cert = "/new.crt";
  next.control_tls_key = "/new.key";
  CHECK(keep_start_only_keys(next, running_config).empty());
  CHECK(next.control_tls_cert == "/new.crt");
  CHECK(next.control_tls_key == "/new.key");
  next.control_tls = false;
  CHECK(keep_start_only_keys(next, running_config).size() == 1);
  CHECK(next.control_tls);
}

TEST_CASE("the listeners are kept at reload, with one warning naming the new and the running ones") {
  config running_config;
  running_config.listeners = {{"ro", endpoint{"127.0.0.1", 3306}, listener_role::balance, 3},
                              {"rw", endpoint{"127.0.0.1", 3307}, listener_role::writer, 7}};
  config next = running_config;
  next.listeners[1].line = 9;  // where a listener is written is not what it is
  next.writer.failback = true;  // [writer] takes effect at once: not kept
  CHECK(keep_start_only_keys(next, running_config).empty());
  next.listeners[1].address.port = 3308;
  const auto warnings = keep_start_only_keys(next, running_config);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "the listeners changed to ro (balance) on 127.0.0.1:3306, rw (writer) on 127.0.0.1:3308: they "
                       "take effect at restart; still listening as ro (balance) on 127.0.0.1:3306, rw (writer) on "
                       "127.0.0.1:3307");
  CHECK(next.listeners == running_config.listeners);
  CHECK(next.writer.failback);
}

TEST_CASE("going from agent.listen to [[listener]] entries at reload keeps the running listener") {
  config running_config;
  config next = running_config;
  next.listeners = {{"rw", endpoint{"127.0.0.1", 3307}, listener_role::writer, 1}};
  const auto warnings = keep_start_only_keys(next, running_config);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("still listening as default (balance) on 127.0.0.1:3306") != std::string::npos);
  CHECK(next.listeners.empty());
  CHECK(next.effective_listeners() == running_config.effective_listeners());
  // The same listener written the other way is no change.
  next.listeners = {{"default", endpoint{"127.0.0.1", 3306}, listener_role::balance, 1}};
  CHECK(keep_start_only_keys(next, running_config).empty());
}

TEST_CASE("the relay backend is kept at reload, with a warning that it takes effect at restart") {
  config running_config;
  running_config.balancer.io = io_backend::epoll;
  config next = running_config;
  next.balancer.io = io_backend::io_uring;
  const auto warnings = keep_start_only_keys(next, running_config);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "balancer.io_backend changed to \"io_uring\": it takes effect at restart; still \"epoll\"");
  CHECK(next.balancer.io == io_backend::epoll);
}
