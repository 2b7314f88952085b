#include "tui/writer_text.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "tui/field_text.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;

const json& array_of(const json& j, const char* key) {
  static const json none = json::array();
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : none;
}

std::string string_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::uint64_t number_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  if (it->is_number_float()) return it->get<double>() > 0 ? static_cast<std::uint64_t>(it->get<double>()) : 0;
  return it->is_number_unsigned() ? it->get<std::uint64_t>() : static_cast<std::uint64_t>(std::max<std::int64_t>(0, it->get<std::int64_t>()));
}

/// Writer-listener sessions on another node than `name`.
std::uint64_t writer_sessions_elsewhere(const json& status, const std::string& name) {
  std::uint64_t n = 0;
  for (const json& l : array_of(status, "listeners"))
    if (l.value("role", "") == "writer")
      for (const auto& [node, count] : listener_connections(status, l))
        if (node != name) n += count;
  return n;
}
}  // namespace

const json* writer_of(const json& status) {
  if (!status.is_object()) return nullptr;
  auto it = status.find("writer");
  return it != status.end() && it->is_object() ? &*it : nullptr;
}

std::string writer_node(const json& status) {
  const json* w = writer_of(status);
  return w ? string_of(*w, "node") : std::string{};
}

bool shows_listeners(const json& status) {
  const json& all = array_of(status, "listeners");
  return all.size() > 1 || writer_of(status) ||
         std::ranges::any_of(all, [](const json& l) { return l.value("role", "") == "writer"; });
}

std::string node_name_at(const json& status, const std::string& address) {
  if (address.empty()) return "none";
  for (const json& n : array_of(status, "nodes"))
    if (string_of(n, "address") == address) return string_of(n, "name");
  return address;
}

std::vector<std::pair<std::string, std::uint64_t>> listener_connections(const json& status, const json& listener) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  const json conns = listener.value("connections", json::object());
  if (!conns.is_object()) return out;
  for (const json& n : array_of(status, "nodes")) {
    const std::string name = string_of(n, "name");
    if (const auto count = number_of(conns, name.c_str())) out.emplace_back(name, count);
  }
  for (const auto& item : conns.items())  // a node the status no longer lists: shown all the same
    if (const auto count = number_of(conns, item.key().c_str());
        count && std::ranges::none_of(out, [&](const auto& p) { return p.first == item.key(); }))
      out.emplace_back(item.key(), count);
  return out;
}

std::string writer_text(const json& w) {
  std::string out;
  const std::string node = string_of(w, "node");
  if (node.empty()) {
    out = fmt::format("none — {}", string_of(w, "why").empty() ? "no node can be the writer" : string_of(w, "why"));
  } else {
    const json row = w.value("row", json::object());
    const std::string by = string_of(row, "changed_by"), reason = string_of(row, "reason");
    out = fmt::format("{} (epoch {}, {})", node, number_of(w, "epoch"), w.value("settled", true) ? "settled" : "switching");
    if (!by.empty()) out += fmt::format(" by {} {} ago", by, elapsed_text(row.value("age_seconds", 0.0)));
    if (!reason.empty()) out += ": " + reason;
  }
  if (const auto waiting = number_of(w, "waiting")) out += fmt::format("; {} client(s) waiting", waiting);
  return out;
}

std::vector<std::string> disagreeing_agents(const json& status) {
  std::vector<std::string> out;
  const json* w = writer_of(status);
  if (!w) return out;
  for (const json& a : array_of(*w, "agents"))
    if (!a.value("agrees", true))
      out.push_back(fmt::format("{} follows {} at epoch {}", string_of(a, "agent"),
                                string_of(a, "node").empty() ? "no writer" : node_name_at(status, string_of(a, "node")),
                                number_of(a, "epoch")));
  return out;
}

std::string writer_answer_text(const json& answer) {
  const json w = answer.value("writer", json::object());
  // The agent says "changed" beside "writer"; inside it is read too.
  const bool changed = answer.contains("changed") ? answer.value("changed", false) : w.value("changed", false);
  const std::string previous = string_of(w, "previous");
  return fmt::format("writer: {} (epoch {}), {}", string_of(w, "node"), number_of(w, "epoch"),
                     changed ? "was " + (previous.empty() ? std::string("none") : previous) : std::string("unchanged"));
}

writer_progress writer_wait_progress(const json& status, const std::string& name, const std::string& address,
                                     std::uint64_t epoch) {
  const json* w = writer_of(status);
  if (!w) return {writer_wait::no_writer_listener, "the agent has no writer listener"};
  const std::string now = string_of(*w, "node");
  if (now == name && w->value("settled", true))
    return {writer_wait::settled, fmt::format("{} is the writer (epoch {}), settled", name, number_of(*w, "epoch"))};
  const json row = w->value("row", json::object());
  const std::string row_node = string_of(row, "node");
  if (number_of(*w, "epoch") > epoch && row_node != address)
    return {writer_wait::moved_on,
            fmt::format("the writer moved on to {} (epoch {}){}", node_name_at(status, row_node), number_of(*w, "epoch"),
                        string_of(row, "reason").empty() ? "" : ": " + string_of(row, "reason"))};
  std::string text = now.empty()  ? fmt::format("no writer yet ({})", string_of(*w, "why"))
                     : now == name ? fmt::format("writer {}, switching", now)
                                   : fmt::format("writer still {}", now);
  if (const auto left = writer_sessions_elsewhere(status, name))
    text += fmt::format(", {} writer-listener session(s) left on other nodes", left);
  if (const auto waiting = number_of(*w, "waiting")) text += fmt::format(", {} client(s) waiting", waiting);
  return {writer_wait::switching, text};
}

}  // namespace galeratop
