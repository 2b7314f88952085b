#include <catch2/catch.hpp>

#include "agent/config/config.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

namespace {
config_error only_error(std::string_view text) {
  const config_result r = parse_config(text, "g.toml");
  REQUIRE_FALSE(r.value);
  REQUIRE(r.errors.size() == 1);
  return r.errors.front();
}

constexpr std::string_view one_node = "[[node]]\naddress = \"127.0.0.1:3311\"\n";
}  // namespace

TEST_CASE("a file with every key is read") {
  const config_result r = parse_config(R"(
[agent]
listen = "127.0.0.1:3320"
control = "/run/g.sock"
metrics = "127.0.0.1:9491"
shutdown_grace = "5s"
state_dir = "/var/lib/g"
user = "galeratop"

[monitor]
user = "mon"
password_file = "/etc/galeratop/pw"
interval = "100ms"
timeout = "2s"
rise = 3

[balancer]
policy = "roundrobin"
donor = "serve"
connect_timeout = "500ms"
connect_attempts = 2
close_on_failure = false
idle_timeout = "1h"
max_connections = 5000

[cluster]
flow_control_paused = 0.25
flow_control_window = "30s"
desync_long = "10m"

[intents]
shared = false
group = "lb-eu"

[[node]]
name = "galera-db-01"
address = "192.168.1.182:3306"
weight = 2

[[node]]
address = "[::1]:3307"
)",
                                         "g.toml");
  REQUIRE(r.errors.empty());
  const config& c = *r.value;
  CHECK(c.listen == endpoint{"127.0.0.1", 3320});
  CHECK(c.control == "/run/g.sock");
  CHECK(c.metrics == "127.0.0.1:9491");
  CHECK(c.shutdown_grace == 5s);
  CHECK(c.monitor.user == "mon");
  CHECK(c.monitor.password_file == "/etc/galeratop/pw");
  CHECK(c.monitor.interval == 100ms);
  CHECK(c.monitor.timeout == 2s);
  CHECK(c.monitor.rise == 3);
  CHECK_FALSE(c.intents.shared);
  CHECK(c.intents.group == "lb-eu");
  CHECK(c.balancer.policy == balance_policy::roundrobin);
  CHECK(c.balancer.donors == donor_policy::serve);
  CHECK(c.balancer.connect_timeout == 500ms);
  CHECK(c.balancer.connect_attempts == 2);
  CHECK_FALSE(c.balancer.close_on_failure);
  CHECK(c.balancer.idle_timeout == 1h);
  CHECK(c.state_dir == "/var/lib/g");
  CHECK(c.user == "galeratop");
  CHECK(c.balancer.max_connections == 5000);
  CHECK(c.cluster.flow_control_paused == 0.25);
  CHECK(c.cluster.flow_control_window == 30s);
  CHECK(c.cluster.desync_long == 10min);
  REQUIRE(c.nodes.size() == 2);
  CHECK(c.nodes[0].name == "galera-db-01");
  CHECK(c.nodes[0].address == endpoint{"192.168.1.182", 3306});
  CHECK(c.nodes[0].weight == 2);
  CHECK(c.nodes[1].address == endpoint{"::1", 3307});
  CHECK(c.nodes[1].weight == 1);
}

TEST_CASE("absent keys take the documented defaults") {
  const config_result r = parse_config(one_node, "g.toml");
  REQUIRE(r.value);
  const config& c = *r.value;
  CHECK(c.listen == endpoint{"127.0.0.1", 3306});
  CHECK(c.monitor.user == "monitor");
  CHECK(c.monitor.interval == 250ms);
  CHECK(c.monitor.timeout == 1s);
  CHECK(c.monitor.rise == 2);
  CHECK(c.balancer.policy == balance_policy::leastconn);
  CHECK(c.balancer.donors == donor_policy::avoid);
  CHECK(c.balancer.connect_timeout == 1000ms);
  CHECK(c.balancer.connect_attempts == 3);
  CHECK(c.balancer.close_on_failure);
  CHECK(c.balancer.idle_timeout == 8h);
  CHECK(c.shutdown_grace == 30s);
  CHECK(c.balancer.max_connections == 0);  // automatic: what the descriptor limit allows
  CHECK(c.user.empty());
}

TEST_CASE("a negative max_connections is refused with its range") {
  const config_result r = parse_config("[balancer]\nmax_connections = -1\n" + std::string(one_node), "g.toml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == "g.toml:2: balancer.max_connections: must be between 0 and 10000000");
}

TEST_CASE("an unknown key is refused with file, line and key") {
  const auto e = only_error("[monitor]\nuser = \"m\"\nintreval = \"1s\"\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.to_string() == "g.toml:3: monitor.intreval: unknown key");
}

TEST_CASE("an unknown section is refused") {
  const auto e = only_error("[agnet]\nlisten = \"127.0.0.1:1\"\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.line == 1);
  CHECK(e.key == "agnet");
}

TEST_CASE("a value of the wrong type names its key and line") {
  const auto e = only_error("[balancer]\n\nconnect_attempts = \"3\"\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.to_string() == "g.toml:3: balancer.connect_attempts: expected an integer");
}

TEST_CASE("a malformed duration is refused") {
  const auto e = only_error("[monitor]\ninterval = \"fast\"\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.line == 2);
  CHECK(e.key == "monitor.interval");
  CHECK(e.message.find("expected a duration") == 0);
}

TEST_CASE("a duration out of range is refused with the range") {
  const auto e = only_error("[monitor]\ninterval = \"1ms\"\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.to_string() == "g.toml:2: monitor.interval: must be between 50ms and 1m");
}

TEST_CASE("the monitor timeout must be whole seconds (Connector/C counts seconds)") {
  const auto e = only_error("[monitor]\ntimeout = \"1500ms\"\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.message == "must be a whole number of seconds");
}

TEST_CASE("an unknown policy lists the choices") {
  const auto e = only_error("[balancer]\npolicy = \"random\"\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.message == "expected \"leastconn\" or \"roundrobin\"");
}

TEST_CASE("a bad node address names the node") {
  const auto e = only_error("[[node]]\naddress = \"127.0.0.1:1\"\n[[node]]\naddress = \"localhost\"\n");
  CHECK(e.to_string() == "g.toml:4: node[1].address: expected \"HOST:PORT\" (IPv6 as \"[::1]:3306\")");
}

TEST_CASE("a node without an address is refused") {
  const auto e = only_error("[[node]]\nname = \"a\"\n");
  CHECK(e.key == "node[0].address");
  CHECK(e.line == 1);
}

TEST_CASE("a node key that is not known is refused") {
  const auto e = only_error("[[node]]\naddress = \"127.0.0.1:1\"\nweigth = 2\n");
  CHECK(e.to_string() == "g.toml:3: node[0].weigth: unknown key (expected name, address, weight, writer_priority or proxy_protocol)");
}

TEST_CASE("the same address twice is refused at the second node's line") {
  const auto e = only_error("[[node]]\naddress = \"127.0.0.1:1\"\n\n[[node]]\naddress = \"127.0.0.1:1\"\n");
  CHECK(e.key == "node.address");
  CHECK(e.line == 4);
  CHECK(e.message == "127.0.0.1:1 is configured twice");
}

TEST_CASE("the same name twice is refused") {
  const auto e = only_error(
      "[[node]]\nname = \"a\"\naddress = \"127.0.0.1:1\"\n[[node]]\nname = \"a\"\naddress = \"127.0.0.1:2\"\n");
  CHECK(e.message == "the name \"a\" is given to two nodes");
}

TEST_CASE("no node at all is refused") {
  const auto e = only_error("[agent]\nlisten = \"127.0.0.1:3306\"\n");
  CHECK(e.key == "node");
}

TEST_CASE("a TOML syntax error gives its line") {
  const config_result r = parse_config("[agent]\nlisten = \"127.0.0.1:3306\n", "g.toml");
  REQUIRE_FALSE(r.value);
  CHECK(r.errors.front().line == 2);
  CHECK(r.errors.front().to_string().rfind("g.toml:2: ", 0) == 0);
}

TEST_CASE("every error in a file is reported, not just the first") {
  const config_result r = parse_config("[monitor]\ninterval = \"x\"\nrise = 0\n[[node]]\naddress = \"1\"\n", "g.toml");
  REQUIRE_FALSE(r.value);
  CHECK(r.errors.size() == 3);
}

TEST_CASE("an unreadable file is refused by name") {
  const config_result r = load_config_file("/nonexistent/galeratopd.toml");
  REQUIRE_FALSE(r.value);
  CHECK(r.errors.front().to_string() == "/nonexistent/galeratopd.toml: cannot be read");
}

TEST_CASE("a flow control threshold outside 0..1 is refused with its line") {
  const auto e = only_error(std::string("[cluster]\nflow_control_paused = 1.5\n") + std::string(one_node));
  CHECK(e.line == 2);
  CHECK(e.key == "cluster.flow_control_paused");
  CHECK(e.message == "expected a number from 0 to 1");
}

TEST_CASE("a metrics address that is not HOST:PORT is refused, an empty one disables the exporter") {
  const auto e = only_error(std::string("[agent]\nmetrics = \"9490\"\n") + std::string(one_node));
  CHECK(e.key == "agent.metrics");
  CHECK(e.message.find("\"\" disables") != std::string::npos);
  const config_result r = parse_config(std::string("[agent]\nmetrics = \"\"\n") + std::string(one_node), "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->metrics.empty());
}

TEST_CASE("intents are shared as group \"default\" unless configured, a group that is not a plain name is refused") {
  const config_result r = parse_config(one_node, "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->intents.shared);
  CHECK(r.value->intents.group == "default");
  const auto e = only_error(std::string("[intents]\ngroup = \"a b\"\n") + std::string(one_node));
  CHECK(e.line == 2);
  CHECK(e.key == "intents.group");
}

TEST_CASE("an intents group is a short plain name") {
  CHECK(valid_intent_group("default"));
  CHECK(valid_intent_group("lb-eu.1_a"));
  CHECK_FALSE(valid_intent_group(""));
  CHECK_FALSE(valid_intent_group("a b"));
  CHECK_FALSE(valid_intent_group("x'; DROP TABLE t; --"));
  CHECK_FALSE(valid_intent_group(std::string(65, 'a')));
}

TEST_CASE("[monitor] fall and hung_time default to HAProxy's 3 and Galera's 5 s, and are range-checked") {
  const config_result r = parse_config("[monitor]\nfall = 4\nhung_time = \"8s\"\n[[node]]\naddress = \"a:1\"\n", "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->monitor.health() == health_rules{2, 4, 8s});
  CHECK(config{}.monitor.health() == health_rules{2, 3, 5s});
  const auto e = only_error("[monitor]\nhung_time = \"100ms\"\n[[node]]\naddress = \"a:1\"\n");
  CHECK(e.line == 2);
  CHECK(e.key == "monitor.hung_time");
  CHECK(only_error("[monitor]\nfall = 0\n[[node]]\naddress = \"a:1\"\n").key == "monitor.fall");
}

TEST_CASE("without [[listener]] there is one balance listener named default at agent.listen") {
  const config_result r = parse_config(std::string("[agent]\nlisten = \"127.0.0.1:3320\"\n") + std::string(one_node),
                                       "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->listeners.empty());
  CHECK(r.value->effective_listeners() ==
        std::vector<listener_config>{{"default", endpoint{"127.0.0.1", 3320}, listener_role::balance, 0}});
  CHECK_FALSE(r.value->has_writer_listener());
  CHECK(config{}.effective_listeners().front().address == endpoint{"127.0.0.1", 3306});
  CHECK(to_string(listener_role::balance) == "balance");
  CHECK(to_string(listener_role::writer) == "writer");
}

TEST_CASE("[[listener]] tables are read in order, a name defaults to the role's") {
  const config_result r = parse_config(R"(
[[listener]]
name = "app.ro"
address = "127.0.0.1:3306"

[[listener]]
address = "[::1]:3307"
role = "writer"

[[node]]
address = "127.0.0.1:3311"
)",
                                       "g.toml");
  REQUIRE(r.errors.empty());
  const auto& l = r.value->listeners;
  REQUIRE(l.size() == 2);
  CHECK(l[0] == listener_config{"app.ro", endpoint{"127.0.0.1", 3306}, listener_role::balance, 0});
  CHECK(l[0].line == 2);
  CHECK(l[1] == listener_config{"writer", endpoint{"::1", 3307}, listener_role::writer, 0});
  CHECK(r.value->effective_listeners() == l);
  CHECK(r.value->has_writer_listener());
}

TEST_CASE("a listener with an unknown role, a bad name or address, an unknown key or no address is refused") {
  CHECK(only_error("[[listener]]\naddress = \"127.0.0.1:1\"\nrole = \"reader\"\n" + std::string(one_node))
            .to_string() == "g.toml:3: listener[0].role: expected \"balance\" or \"writer\"");
  CHECK(only_error("[[listener]]\naddress = \"127.0.0.1:1\"\nname = \"a b\"\n" + std::string(one_node))
            .to_string() == "g.toml:3: listener[0].name: expected 1 to 64 of the characters A-Z a-z 0-9 . _ -");
  CHECK(only_error("[[listener]]\naddress = \"127.0.0.1\"\n" + std::string(one_node)).to_string() ==
        "g.toml:2: listener[0].address: expected \"HOST:PORT\" (IPv6 as \"[::1]:3306\")");
  CHECK(only_error("[[listener]]\naddress = \"127.0.0.1:1\"\nport = 3\n" + std::string(one_node)).to_string() ==
        "g.toml:3: listener[0].port: unknown key (expected name, address or role)");
  CHECK(only_error("[[listener]]\nrole = \"writer\"\n" + std::string(one_node)).to_string() ==
        "g.toml:1: listener[0].address: missing: every [[listener]] needs an address");
  CHECK(only_error("listener = \"127.0.0.1:1\"\n" + std::string(one_node)).key == "listener");
}

TEST_CASE("two listeners with one name or one address are refused at the second one's line") {
  const auto name = only_error(
      "[[listener]]\naddress = \"127.0.0.1:1\"\n[[listener]]\naddress = \"127.0.0.1:2\"\n" + std::string(one_node));
  CHECK(name.to_string() == "g.toml:3: listener.name: the name \"balance\" is given to two listeners");
  const auto address = only_error("[[listener]]\nname = \"a\"\naddress = \"127.0.0.1:1\"\n"
                                  "[[listener]]\nname = \"b\"\naddress = \"127.0.0.1:1\"\nrole = \"writer\"\n" +
                                  std::string(one_node));
  CHECK(address.to_string() == "g.toml:4: listener.address: 127.0.0.1:1 is given to two listeners");
}

TEST_CASE("agent.listen and [[listener]] in one file are refused at agent.listen") {
  const auto e = only_error("[agent]\nmetrics = \"\"\nlisten = \"127.0.0.1:3306\"\n[[listener]]\n"
                            "address = \"127.0.0.1:3307\"\n" + std::string(one_node));
  CHECK(e.to_string() == "g.toml:3: agent.listen: give the client-facing addresses either as agent.listen or as "
                         "[[listener]] entries, not both");
  // Another [agent] key beside [[listener]] is fine.
  CHECK(parse_config("[agent]\nmetrics = \"\"\n[[listener]]\naddress = \"127.0.0.1:3307\"\n" + std::string(one_node),
                     "g.toml").value);
}

TEST_CASE("a writer listener needs shared intents and a node that may be the writer") {
  const std::string writer = "[[listener]]\naddress = \"127.0.0.1:3307\"\nrole = \"writer\"\n";
  const auto local = only_error("[intents]\nshared = false\n" + writer + std::string(one_node));
  CHECK(local.to_string() == "g.toml:3: listener.role: a writer listener needs [intents] shared = true: the agents "
                             "agree on the writer through the cluster's galeratop schema");
  const auto never = only_error(writer + "[[node]]\naddress = \"127.0.0.1:3311\"\nwriter_priority = 0\n");
  CHECK(never.key == "node.writer_priority");
  CHECK(never.line == 1);
  // Without a writer listener, neither is needed.
  CHECK(parse_config("[intents]\nshared = false\n[[node]]\naddress = \"a:1\"\nwriter_priority = 0\n", "g.toml").value);
}

TEST_CASE("writer_priority is 0 to 1000, default 1") {
  const config_result r = parse_config(
      "[[node]]\naddress = \"a:1\"\nwriter_priority = 1000\n[[node]]\naddress = \"a:2\"\nwriter_priority = 0\n"
      "[[node]]\naddress = \"a:3\"\n",
      "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->nodes[0].writer_priority == 1000);
  CHECK(r.value->nodes[1].writer_priority == 0);
  CHECK(r.value->nodes[2].writer_priority == 1);
  CHECK(only_error("[[node]]\naddress = \"a:1\"\nwriter_priority = 1001\n").to_string() ==
        "g.toml:3: node[0].writer_priority: expected an integer from 0 to 1000 (0 = never the writer)");
  CHECK(only_error("[[node]]\naddress = \"a:1\"\nwriter_priority = -1\n").key == "node[0].writer_priority");
  CHECK(only_error("[[node]]\naddress = \"a:1\"\nwriter_priority = \"high\"\n").key == "node[0].writer_priority");
  CHECK(only_error("[[node]]\naddress = \"a:1\"\npriority = 2\n").message ==
        "unknown key (expected name, address, weight, writer_priority or proxy_protocol)");
}

TEST_CASE("[writer] failback and barrier are read, default off and 5 s, the barrier range-checked") {
  const config_result r = parse_config("[writer]\nfailback = true\nbarrier = \"0\"\n" + std::string(one_node), "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->writer == writer_config{true, 0ms});
  CHECK(config{}.writer == writer_config{false, 10s});
  CHECK(only_error("[writer]\nbarrier = \"11m\"\n" + std::string(one_node)).to_string() ==
        "g.toml:2: writer.barrier: must be between 0 and 10m");
  CHECK(only_error("[writer]\nfailback = \"yes\"\n" + std::string(one_node)).key == "writer.failback");
  CHECK(only_error("[writer]\nfail_back = true\n" + std::string(one_node)).key == "writer.fail_back");
}

TEST_CASE("an unknown section names the sections there are") {
  CHECK(only_error("[listeners]\n" + std::string(one_node)).message ==
        "unknown section (expected agent, monitor, balancer, cluster, intents, writer, node or listener)");
}

TEST_CASE("the hold is 10 s and 1024 clients by default, and both are range-checked") {
  const config_result defaults = parse_config(one_node, "g.toml");
  REQUIRE(defaults.value);
  CHECK(defaults.value->balancer.hold == 10s);
  CHECK(defaults.value->balancer.hold_limit == 1024);
  const config_result r = parse_config("[balancer]\nhold = \"0\"\nhold_limit = 5\n" + std::string(one_node), "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->balancer.hold == 0ms);
  CHECK(r.value->balancer.hold_limit == 5);
  CHECK(only_error("[balancer]\nhold = \"11m\"\n" + std::string(one_node)).key == "balancer.hold");
  CHECK(only_error("[balancer]\nhold_limit = 0\n" + std::string(one_node)).key == "balancer.hold_limit");
}

TEST_CASE("proxy_protocol is off by default, on for all nodes in [balancer], and a node may say otherwise") {
  const config_result r = parse_config(
      "[balancer]\nproxy_protocol = true\n[[node]]\naddress = \"a:1\"\n[[node]]\naddress = \"a:2\"\n"
      "proxy_protocol = false\n",
      "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->balancer.proxy_protocol);
  CHECK_FALSE(r.value->nodes[0].proxy_protocol.has_value());
  CHECK(r.value->nodes[1].proxy_protocol == false);
  CHECK_FALSE(parse_config(one_node, "g.toml").value->balancer.proxy_protocol);
  CHECK(only_error("[[node]]\naddress = \"a:1\"\nproxy_protocol = \"yes\"\n").to_string() ==
        "g.toml:3: node[0].proxy_protocol: expected true or false");
}

TEST_CASE("TCP control speaks TLS by default: it needs a certificate and a key, or control_tls = false") {
  const std::string tcp = "[agent]\ncontrol_tcp = \"127.0.0.1:9491\"\ncontrol_token_file = \"/etc/g/token\"\n";
  const config_result without = parse_config(tcp + std::string(one_node), "g.toml");
  REQUIRE_FALSE(without.value);
  REQUIRE(without.errors.size() == 2);
  CHECK(without.errors[0].key == "agent.control_tls_cert");
  CHECK(without.errors[0].message.find("control_tls = false") != std::string::npos);
  CHECK(without.errors[1].key == "agent.control_tls_key");

  const config_result with = parse_config(
      tcp + "control_tls_cert = \"/etc/g/agent.crt\"\ncontrol_tls_key = \"/etc/g/agent.key\"\n" + std::string(one_node),
      "g.toml");
  REQUIRE(with.value);
  CHECK(with.value->control_tls);
  CHECK(with.value->control_tls_cert == "/etc/g/agent.crt");
  CHECK(with.value->control_tls_key == "/etc/g/agent.key");

  const config_result plain = parse_config(tcp + "control_tls = false\n" + std::string(one_node), "g.toml");
  REQUIRE(plain.value);
  CHECK_FALSE(plain.value->control_tls);
}

TEST_CASE("control_tls = false beside a certificate is refused as ambiguous") {
  const auto e = only_error(std::string("[agent]\ncontrol_tls = false\ncontrol_tls_cert = \"/c.pem\"\n") +
                            std::string(one_node));
  CHECK(e.key == "agent.control_tls");
}

TEST_CASE("without control_tcp no TLS file is needed, and control_tls must be a boolean") {
  const config_result r = parse_config(one_node, "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->control_tls);
  CHECK(r.value->control_tls_cert.empty());
  const auto e = only_error(std::string("[agent]\ncontrol_tls = \"no\"\n") + std::string(one_node));
  CHECK(e.to_string() == "g.toml:2: agent.control_tls: expected true or false");
}

TEST_CASE("HTTPS for /metrics needs both the certificate and the key, basic auth a users file") {
  const config_result r = parse_config(std::string("[agent]\nmetrics_tls_cert = \"/m.crt\"\nmetrics_tls_key = \"/m.key\"\n"
                                                   "metrics_basic_auth_users = \"/m.users\"\n") +
                                           std::string(one_node),
                                       "g.toml");
  REQUIRE(r.value);
  CHECK(r.value->metrics_tls_cert == "/m.crt");
  CHECK(r.value->metrics_tls_key == "/m.key");
  CHECK(r.value->metrics_basic_auth_users == "/m.users");
  CHECK(only_error(std::string("[agent]\nmetrics_tls_cert = \"/m.crt\"\n") + std::string(one_node)).key ==
        "agent.metrics_tls_key");
  CHECK(only_error(std::string("[agent]\nmetrics = \"\"\nmetrics_basic_auth_users = \"/u\"\n") + std::string(one_node))
            .key == "agent.metrics_basic_auth_users");
}

TEST_CASE("io_backend is auto by default, takes io_uring or epoll, and names them when it refuses another") {
  const config_result defaults = parse_config(one_node, "g.toml");
  REQUIRE(defaults.value);
  CHECK(defaults.value->balancer.io == io_backend::automatic);
  for (auto [text, value] : {std::pair{"io_uring", io_backend::io_uring}, {"epoll", io_backend::epoll},
                             {"auto", io_backend::automatic}}) {
    const config_result r =
        parse_config("[balancer]\nio_backend = \"" + std::string(text) + "\"\n" + std::string(one_node), "g.toml");
    REQUIRE(r.value);
    CHECK(r.value->balancer.io == value);
  }
  const config_error e = only_error("[balancer]\nio_backend = \"uring\"\n" + std::string(one_node));
  CHECK(e.key == "balancer.io_backend");
  CHECK(e.message == "expected \"auto\" or \"io_uring\" or \"epoll\"");
}
