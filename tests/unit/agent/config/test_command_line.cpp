#include <catch2/catch.hpp>

#include "agent/config/command_line.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

TEST_CASE("command-line options build a configuration on their own") {
  config_overrides o;
  o.listen = "127.0.0.1:3320";
  o.nodes = {"127.0.0.1:3311", "db2=127.0.0.1:3312"};
  o.monitor_user = "mon";
  o.monitor_password_file = "/tmp/pw";
  o.interval = "100ms";
  o.connect_timeout = "300ms";
  o.policy = "roundrobin";
  o.donor = "serve";
  o.rise = 4;
  const config_result r = apply_overrides(config{}, o);
  REQUIRE(r.errors.empty());
  const config& c = *r.value;
  CHECK(c.listen == endpoint{"127.0.0.1", 3320});
  REQUIRE(c.nodes.size() == 2);
  CHECK(c.nodes[1].name == "db2");
  CHECK(c.monitor.user == "mon");
  CHECK(c.monitor.password_file == "/tmp/pw");
  CHECK(c.monitor.interval == 100ms);
  CHECK(c.balancer.connect_timeout == 300ms);
  CHECK(c.balancer.policy == balance_policy::roundrobin);
  CHECK(c.balancer.donors == donor_policy::serve);
  CHECK(c.monitor.rise == 4);
}

TEST_CASE("node options replace the file's nodes and other file keys stay") {
  config base = *parse_config("[monitor]\nuser = \"fromfile\"\n[[node]]\naddress = \"10.0.0.1:3306\"\n", "g").value;
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  const config_result r = apply_overrides(base, o);
  REQUIRE(r.value);
  REQUIRE(r.value->nodes.size() == 1);
  CHECK(r.value->nodes[0].address.port == 3311);
  CHECK(r.value->monitor.user == "fromfile");
}

TEST_CASE("bad option values are refused naming the option") {
  config_overrides o;
  o.nodes = {"127.0.0.1"};
  o.listen = "nowhere";
  o.interval = "1ms";
  o.policy = "random";
  o.rise = 0;
  const config_result r = apply_overrides(config{}, o);
  REQUIRE_FALSE(r.value);
  std::vector<std::string> keys;
  for (const auto& e : r.errors) keys.push_back(e.key);
  CHECK(keys == std::vector<std::string>{"--listen", "--node", "--interval", "--policy", "--rise", "node"});
}

TEST_CASE("the intents options set the group or keep intents local, a bad group is refused by option") {
  config base = *parse_config("[intents]\ngroup = \"fromfile\"\n[[node]]\naddress = \"10.0.0.1:3306\"\n", "g").value;
  config_overrides o;
  o.intents_group = "web-2";
  o.local_intents = true;
  const config_result r = apply_overrides(base, o);
  REQUIRE(r.value);
  CHECK(r.value->intents.group == "web-2");
  CHECK_FALSE(r.value->intents.shared);
  o.intents_group = "web 2";
  const config_result bad = apply_overrides(base, o);
  REQUIRE_FALSE(bad.value);
  CHECK(bad.errors.front().key == "--intents-group");
}

TEST_CASE("fall and hung_time come from the command line too, and are refused out of range") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.fall = 5;
  o.hung_time = "12s";
  const config_result r = apply_overrides(config{}, o);
  REQUIRE(r.value);
  CHECK(r.value->monitor.health() == health_rules{2, 5, 12s});
  o.fall = 0;
  o.hung_time = "500ms";
  std::vector<std::string> keys;
  for (const auto& e : apply_overrides(config{}, o).errors) keys.push_back(e.key);
  CHECK(keys == std::vector<std::string>{"--hung-time", "--fall"});
}

TEST_CASE("listener options replace the file's listeners, a name defaults to the role, IPv6 is bracketed") {
  config base = *parse_config("[[listener]]\naddress = \"10.0.0.9:3306\"\n[[node]]\naddress = \"10.0.0.1:3306\"\n",
                              "g").value;
  config_overrides o;
  o.listeners = {"ro=balance@127.0.0.1:3306", "writer@[::1]:3307"};
  const config_result r = apply_overrides(base, o);
  REQUIRE(r.errors.empty());
  CHECK(r.value->listeners ==
        std::vector<listener_config>{{"ro", endpoint{"127.0.0.1", 3306}, listener_role::balance, 0},
                                     {"writer", endpoint{"::1", 3307}, listener_role::writer, 0}});
  CHECK(r.value->listeners[0].line == 0);
}

TEST_CASE("a file with [[listener]] and no --listen passes the command line, which may still override other keys") {
  config base = *parse_config("[[listener]]\naddress = \"10.0.0.9:3307\"\nrole = \"writer\"\n"
                              "[[node]]\naddress = \"10.0.0.1:3306\"\n",
                              "g").value;
  config_overrides o;
  o.interval = "100ms";
  const config_result r = apply_overrides(base, o);
  REQUIRE(r.value);
  CHECK(r.value->has_writer_listener());
}

TEST_CASE("the listen option replaces the file's [[listener]]s with one balance listener") {
  config base = *parse_config("[[listener]]\naddress = \"10.0.0.9:3307\"\nrole = \"writer\"\n"
                              "[[node]]\naddress = \"10.0.0.1:3306\"\n",
                              "g").value;
  config_overrides o;
  o.listen = "127.0.0.1:4000";
  const config_result r = apply_overrides(base, o);
  REQUIRE(r.value);
  CHECK(r.value->effective_listeners() ==
        std::vector<listener_config>{{"default", endpoint{"127.0.0.1", 4000}, listener_role::balance, 0}});
}

TEST_CASE("the listen and listener options together are refused") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.listen = "127.0.0.1:3306";
  o.listeners = {"writer@127.0.0.1:3307"};
  const config_result r = apply_overrides(config{}, o);
  REQUIRE_FALSE(r.value);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == "command line: --listen: give the client-facing addresses either as --listen or "
                                   "as --listener options, not both");
}

TEST_CASE("a malformed listener option is refused naming the option and saying what is wrong") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1:3306", "\"127.0.0.1:3306\" is not [NAME=]ROLE@HOST:PORT (IPv6 as writer@[::1]:3306)"},
           {"writer@::1:3306", "\"writer@::1:3306\" is not [NAME=]ROLE@HOST:PORT (IPv6 as writer@[::1]:3306)"},
           {"reader@127.0.0.1:3306", "\"reader@127.0.0.1:3306\": the role: expected \"balance\" or \"writer\""},
           {"=writer@127.0.0.1:3306",
            "\"=writer@127.0.0.1:3306\": the name: expected 1 to 64 of the characters A-Z a-z 0-9 . _ -"},
       }) {
    o.listeners = {text};
    const config_result r = apply_overrides(config{}, o);
    REQUIRE_FALSE(r.value);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].key == "--listener");
    CHECK(r.errors[0].message == message);
  }
  o.listeners = {"writer@127.0.0.1:3307", "writer@127.0.0.1:3308"};  // both named writer
  const config_result twice = apply_overrides(config{}, o);
  REQUIRE_FALSE(twice.value);
  CHECK(twice.errors[0].key == "listener.name");
}

TEST_CASE("the writer options set failback and barrier, a bad barrier is refused by option") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.writer_failback = true;
  o.writer_barrier = "2s";
  const config_result r = apply_overrides(config{}, o);
  REQUIRE(r.value);
  CHECK(r.value->writer == writer_config{true, 2s});
  o.writer_barrier = "soon";
  const config_result bad = apply_overrides(config{}, o);
  REQUIRE_FALSE(bad.value);
  CHECK(bad.errors[0].key == "--writer-barrier");
}

TEST_CASE("nodes from the command line may be the writer, as a file's nodes are by default") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.listeners = {"writer@127.0.0.1:3307"};
  const config_result r = apply_overrides(config{}, o);
  REQUIRE(r.value);
  CHECK(r.value->nodes[0].writer_priority == 1);
}

TEST_CASE("local intents from the command line with a writer listener are refused") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.listeners = {"writer@127.0.0.1:3307"};
  o.local_intents = true;
  const config_result r = apply_overrides(config{}, o);
  REQUIRE_FALSE(r.value);
  CHECK(r.errors[0].key == "listener.role");
}

TEST_CASE("the hold and PROXY protocol options set their keys, and a hold limit of 0 is refused") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.hold = "2500ms";
  o.hold_limit = 3;
  o.proxy_protocol = true;
  const config_result r = apply_overrides(config{}, o);
  REQUIRE(r.value);
  CHECK(r.value->balancer.hold == 2500ms);
  CHECK(r.value->balancer.hold_limit == 3);
  CHECK(r.value->balancer.proxy_protocol);
  o.hold_limit = 0;
  const config_result refused = apply_overrides(config{}, o);
  REQUIRE_FALSE(refused.value);
  CHECK(refused.errors.front().key == "--hold-limit");
}

TEST_CASE("the TLS options set the certificate and key files, --control-plain-tcp turns TLS off") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.control_tcp = "127.0.0.1:9491";
  o.control_token_file = "/t";
  o.control_tls_cert = "/c.pem";
  o.control_tls_key = "/k.pem";
  o.metrics_tls_cert = "/mc.pem";
  o.metrics_tls_key = "/mk.pem";
  o.metrics_basic_auth_users = "/users";
  const config_result r = apply_overrides(config{}, o);
  REQUIRE(r.errors.empty());
  CHECK(r.value->control_tls);
  CHECK(r.value->control_tls_cert == "/c.pem");
  CHECK(r.value->control_tls_key == "/k.pem");
  CHECK(r.value->metrics_tls_cert == "/mc.pem");
  CHECK(r.value->metrics_tls_key == "/mk.pem");
  CHECK(r.value->metrics_basic_auth_users == "/users");

  config_overrides plain;
  plain.nodes = {"127.0.0.1:3311"};
  plain.control_tcp = "127.0.0.1:9491";
  plain.control_token_file = "/t";
  CHECK(apply_overrides(config{}, plain).errors.size() == 2);  // neither certificate nor key
  plain.control_plain_tcp = true;
  const config_result p = apply_overrides(config{}, plain);
  REQUIRE(p.errors.empty());
  CHECK_FALSE(p.value->control_tls);
}

TEST_CASE("the option --io-backend sets balancer.io_backend and refuses a name it does not know") {
  config_overrides o;
  o.nodes = {"127.0.0.1:3311"};
  o.io_backend = "epoll";
  const config_result r = apply_overrides(config{}, o);
  REQUIRE(r.value);
  CHECK(r.value->balancer.io == io_backend::epoll);
  o.io_backend = "kqueue";
  const config_result refused = apply_overrides(config{}, o);
  REQUIRE_FALSE(refused.value);
  CHECK(refused.errors.front().key == "--io-backend");
  CHECK(refused.errors.front().message == "expected \"auto\" or \"io_uring\" or \"epoll\"");
}
