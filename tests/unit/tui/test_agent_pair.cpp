#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/tui/tui_fixtures.hpp"
#include "tui/agent_pair.hpp"
#include "tui/key_map.hpp"
#include "tui/screen_layout.hpp"

using namespace galeratop;
using json = nlohmann::json;
using test::line_with;
using test::render;
using test::text_of;

namespace {
/// Two agents that see the same three nodes; the second has galera-db-02 drained (its intents kept local).
view_state two_agents(bool agree) {
  view_state v;
  v.connected = true;
  json b = test::three_node_status();
  if (!agree) b["nodes"][1]["admin"] = "drain";
  v.agents = {{.control = "/run/a.sock", .connected = true, .status = test::three_node_status()},
              {.control = "/run/b.sock", .connected = true, .status = b}};
  return v;
}
}  // namespace

TEST_CASE("agents that say the same of every node and the writer agree") {
  CHECK(agent_disagreements(two_agents(true).agents).empty());
  // One agent alone, or an agent without a status yet, has nobody to disagree with.
  view_state v = two_agents(false);
  v.agents[1].status = nullptr;
  CHECK(agent_disagreements(v.agents).empty());
}

TEST_CASE("a node's admin state, its weight and the writer are compared between agents, by address") {
  view_state v = two_agents(false);
  v.agents[0].status["nodes"][2]["weight"] = 5;
  v.agents.push_back({.control = "/run/c.sock", .connected = true, .status = v.agents[1].status});
  CHECK(agent_disagreements(v.agents) ==
        std::vector<std::string>{"galera-db-02 (127.0.0.1:3312) admin: ready on [1], drain on [2, 3]",
                                 "galera-db-03 (127.0.0.1:3313) weight: 5 on [1], 1 on [2, 3]"});
  json writer_a = test::writer_status(), writer_b = test::writer_status();
  writer_b["writer"]["node"] = "galera-db-01";
  v.agents = {{.control = "a", .connected = true, .status = writer_a}, {.control = "b", .connected = true, .status = writer_b}};
  CHECK(agent_disagreements(v.agents) == std::vector<std::string>{"writer: galera-db-02 on [1], galera-db-01 on [2]"});
}

TEST_CASE("with several agents the screen shows each, the one shown marked, and their disagreements in red") {
  view_state v = two_agents(true);
  auto lines = render(v.agents[0].status, v, 120, 35);
  const std::string* agents = line_with(lines, " 2 agents ");
  REQUIRE(agents);
  CHECK(*agents == " 2 agents agree on intents and the writer (Tab: next): [1] /run/a.sock [2] /run/b.sock");
  CHECK(line_with(lines, " Tab agent "));
  v = two_agents(false);
  v.agents[0].connected = false;
  v.focus = 1;
  const auto layout = layout_screen(v.agents[1].status, v, 120, 35, screen_clock::time_point{}, "0.1.0");
  lines = render(v.agents[1].status, v, 120, 35);
  CHECK(*line_with(lines, " 2 agents ") == " 2 agents DISAGREE (1) (Tab: next): [1] /run/a.sock unreachable [2] /run/b.sock");
  CHECK(line_with(lines, "   galera-db-02 (127.0.0.1:3312) admin: ready on [1], drain on [2]"));
  for (const auto& l : layout)
    for (const span& s : l)
      if (s.text == "[2] /run/b.sock") CHECK(s.attr == attr::selected);
  // One agent: no agents line and no Tab in the footer.
  v.agents.clear();
  lines = render(test::three_node_status(), v, 120, 35);
  CHECK_FALSE(line_with(lines, " agents "));
  CHECK_FALSE(line_with(lines, " Tab agent "));
}

TEST_CASE("Tab asks the live loop for the next agent only when there is one") {
  view_state v = two_agents(true);
  CHECK(handle_key(v, key::of('\t'), v.agents[0].status).next_agent);
  v.agents.clear();
  CHECK_FALSE(handle_key(v, key::of('\t'), test::three_node_status()).next_agent);
  CHECK(v.message_is_error);
}
