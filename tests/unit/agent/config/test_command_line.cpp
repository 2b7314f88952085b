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
