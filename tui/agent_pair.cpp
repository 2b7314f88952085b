#include "tui/agent_pair.hpp"

#include <fmt/format.h>
#include <map>
#include <utility>

#include "tui/field_text.hpp"
#include "tui/writer_text.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;

/// "[2]": how the screen names the agent of --control number i + 1.
std::string tag(std::size_t i) { return fmt::format("[{}]", i + 1); }

/// "drain on [2], ready on [1, 3]": the agents grouped by what they say, in order of the first to say it.
std::string who_says(const std::vector<std::pair<std::string, std::size_t>>& said) {
  std::vector<std::pair<std::string, std::string>> groups;  // value, agents
  for (const auto& [value, agent] : said) {
    auto it = std::ranges::find(groups, value, &std::pair<std::string, std::string>::first);
    if (it == groups.end())
      groups.emplace_back(value, std::to_string(agent + 1));
    else
      it->second += fmt::format(", {}", agent + 1);
  }
  std::string out;
  for (const auto& [value, agents] : groups) out += fmt::format("{}{} on [{}]", out.empty() ? "" : ", ", value, agents);
  return out;
}

bool differ(const std::vector<std::pair<std::string, std::size_t>>& said) {
  for (const auto& s : said)
    if (s.first != said.front().first) return true;
  return false;
}
}  // namespace

std::vector<std::string> agent_disagreements(const std::vector<agent_glance>& agents) {
  // By node address (the one key every agent shares), what each agent says of it.
  struct node_said {
    std::string name;
    std::vector<std::pair<std::string, std::size_t>> admin, weight;
  };
  std::map<std::string, node_said> nodes;
  std::vector<std::pair<std::string, std::size_t>> writers;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    const json& s = agents[i].status;
    if (!s.is_object()) continue;
    for (const json& n : s.value("nodes", json::array())) {
      node_said& said = nodes[n.value("address", "")];
      if (said.name.empty()) said.name = n.value("name", "");
      said.admin.emplace_back(n.value("admin", "ready"), i);
      said.weight.emplace_back(field_text(n, "weight"), i);
    }
    if (writer_of(s)) {
      const std::string w = writer_node(s);
      writers.emplace_back(w.empty() ? "none" : w, i);
    }
  }
  std::vector<std::string> out;
  for (const auto& [address, said] : nodes) {
    if (differ(said.admin)) out.push_back(fmt::format("{} ({}) admin: {}", said.name, address, who_says(said.admin)));
    if (differ(said.weight)) out.push_back(fmt::format("{} ({}) weight: {}", said.name, address, who_says(said.weight)));
  }
  if (!writers.empty() && differ(writers)) out.push_back(fmt::format("writer: {}", who_says(writers)));
  return out;
}

std::vector<screen_line> agents_lines(const view_state& v) {
  if (v.agents.size() < 2) return {};
  // The verdict first: control paths are long, and the end of the line is what a narrow screen cuts.
  const auto disagreements = agent_disagreements(v.agents);
  screen_line line{span{fmt::format(" {} agents ", v.agents.size())},
                   disagreements.empty() ? span{"agree on intents and the writer", attr::good}
                                         : span{fmt::format("DISAGREE ({})", disagreements.size()), attr::bad},
                   span{" (Tab: next):", attr::dim}};
  for (std::size_t i = 0; i < v.agents.size(); ++i) {
    const agent_glance& a = v.agents[i];
    line.push_back({" "});
    line.push_back({fmt::format("{} {}", tag(i), a.control), i == v.focus ? attr::selected : attr::normal});
    if (!a.connected) line.push_back({" unreachable", attr::bad});
  }
  std::vector<screen_line> out{std::move(line)};
  for (const std::string& d : disagreements) out.push_back(text_line("   " + d, attr::bad));
  return out;
}

}  // namespace galeratop
