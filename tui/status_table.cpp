#include "tui/status_table.hpp"

#include "tui/field_text.hpp"
#include "tui/writer_text.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <vector>

namespace galeratop {
namespace {
using json = nlohmann::json;

/// Left-aligned words and right-aligned figures in columns two spaces apart, trailing blanks cut.
std::string aligned(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& number,
                    std::string_view indent = "") {
  std::vector<std::size_t> width(number.size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    std::string l(indent);
    for (std::size_t i = 0; i < r.size(); ++i)
      l += number[i] ? fmt::format("{:>{}}  ", r[i], width[i]) : fmt::format("{:<{}}  ", r[i], width[i]);
    l.erase(l.find_last_not_of(' ') + 1);
    out += l + "\n";
  }
  return out;
}

/// Each listener: its name, role, address, open and accepted connections, and where its sessions are.
std::string listener_table(const json& status) {
  std::vector<std::vector<std::string>> rows{{"LISTENER", "ROLE", "ADDRESS", "OPEN", "ACCEPTED", "CONNECTIONS"}};
  for (const json& l : status.value("listeners", json::array())) {
    std::uint64_t open = 0;
    std::vector<std::string> where;
    for (const auto& [node, count] : listener_connections(status, l)) {
      open += count;
      where.push_back(fmt::format("{} {}", node, count));
    }
    rows.push_back({field_text(l, "name"), field_text(l, "role"), field_text(l, "address"), std::to_string(open),
                    field_text(l, "accepted_total"), where.empty() ? "-" : fmt::format("{}", fmt::join(where, ", "))});
  }
  return aligned(rows, {false, false, false, true, true, false});
}

/// The writer line, and what keeps it from being trusted: an unreadable row, agents that follow another.
std::string writer_lines(const json& status, const json& w) {
  std::string out = fmt::format("writer: {}\n", writer_text(w));
  if (const json row = w.value("row", json::object()); row.is_object() && !row.value("readable", true))
    out += fmt::format("  galeratop.writer NOT READABLE: {}\n", field_text(row, "error"));
  const auto others = w.value("agents", json::array()).size();
  if (const auto disagreeing = disagreeing_agents(status); !disagreeing.empty())
    out += fmt::format("  agents DISAGREEING ({} of {}): {}\n", disagreeing.size(), others,
                       fmt::join(disagreeing, "; "));
  else if (others)
    out += fmt::format("  other agents: {}, all following this writer\n", others);
  return out;
}
}  // namespace

std::string render_status_table(const json& status) {
  const json& c = status.at("cluster");
  const json& f = status.value("frontend", json::object());
  const bool listeners = shows_listeners(status);
  // With several listeners the frontend's figures are the sum; the listener table below names each.
  std::string out = fmt::format("cluster {} {} size {} conf_id {} partitions {}   {}: {} open, {} accepted, {} "
                                "rejected\n",
                                c.value("name", "").empty() ? "-" : c.value("name", ""), field_text(c, "status"),
                                field_text(c, "size"), field_text(c, "conf_id"), c.value("partitions", json::array()).size(),
                                listeners ? "clients" : "listener " + field_text(f, "listen"), field_text(f, "current"),
                                field_text(f, "accepted_total"), field_text(f, "rejected_total"));

  // WRITER only with a writer listener: "yes" on the node writer listeners send to, "never" on a
  // node whose writer_priority is 0.
  const json* writer = writer_of(status);
  std::vector<std::vector<std::string>> rows{{"NODE", "ADDRESS", "STATE", "ADMIN", "ELIGIBLE", "CONN", "SHARE", "QPS",
                                              "P99ms", "DRAIN"}};
  // Numbers align right, words left, so that columns of figures compare at a glance.
  std::vector<bool> number{false, false, false, false, false, true, true, true, true, false};
  std::uint64_t total = 0;
  for (const json& n : status.at("nodes")) total += n.value("connections", std::uint64_t{0});
  for (const json& n : status.at("nodes")) {
    const auto conns = n.value("connections", std::uint64_t{0});
    std::string drain;
    if (const json& d = n.value("drain", json()); d.is_object())
      drain = fmt::format("{} left, {}", field_text(d, "remaining"), elapsed_text(d.value("elapsed_seconds", 0.0)));
    rows.push_back({field_text(n, "name"), field_text(n, "address"), shown_state(n), field_text(n, "admin"),
                    n.value("eligible", false) ? "yes" : "no", std::to_string(conns),
                    share_text(conns, total), qps_text(n), p99_text(n), drain});
  }
  if (writer) {
    rows[0].insert(rows[0].begin() + 5, "WRITER");
    for (std::size_t r = 1; r < rows.size(); ++r) {
      const json& n = status.at("nodes")[r - 1];
      rows[r].insert(rows[r].begin() + 5, n.value("writer", false) ? "yes"
                                          : n.value("writer_priority", 1) == 0 ? "never"
                                                                               : "no");
    }
    number.insert(number.begin() + 5, false);
  }
  out += aligned(rows, number);

  if (listeners) out += listener_table(status);
  if (writer) out += writer_lines(status, *writer);

  const json& advisories = status.value("advisories", json::array());
  if (advisories.empty()) {
    out += "advisories: none\n";
  } else {
    out += "advisories:\n";
    for (const json& a : advisories) out += fmt::format("  {:<8} {}: {}\n", field_text(a, "severity"), field_text(a, "id"), field_text(a, "message"));
  }
  // Whether the other agents of the group see this agent's drains: silent trouble otherwise.
  if (const json& in = status.value("intents", json()); in.is_object() && in.value("shared", false)) {
    const std::size_t pending = in.value("pending", std::size_t{0});
    const std::string held = pending ? fmt::format("; {} change(s) held here only, not shared yet", pending) : "";
    if (in.value("available", false))
      out += fmt::format("intents: shared as group \"{}\" (read from {}){}\n", field_text(in, "group"),
                         field_text(in, "from"), held);
    else
      out += fmt::format("intents: NOT SHARED (group \"{}\"): {}{}\n", field_text(in, "group"),
                         field_text(in, "error"), held);
  }
  if (const json& b = status.value("bootstrap_candidate", json()); b.is_object())
    out += fmt::format("bootstrap: {} ({}), seqno {}: {}\n  {}\n", field_text(b, "node"), field_text(b, "address"),
                       field_text(b, "seqno"), field_text(b, "evidence"), field_text(b, "command"));
  return out;
}

}  // namespace galeratop
