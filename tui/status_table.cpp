#include "tui/status_table.hpp"

#include "tui/field_text.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <vector>

namespace galeratop {
namespace {
using json = nlohmann::json;

}  // namespace

std::string render_status_table(const json& status) {
  const json& c = status.at("cluster");
  const json& f = status.value("frontend", json::object());
  std::string out = fmt::format("cluster {} {} size {} conf_id {} partitions {}   listener {}: {} open, {} accepted, {} "
                                "rejected\n",
                                c.value("name", "").empty() ? "-" : c.value("name", ""), field_text(c, "status"),
                                field_text(c, "size"), field_text(c, "conf_id"), c.value("partitions", json::array()).size(),
                                field_text(f, "listen"), field_text(f, "current"), field_text(f, "accepted_total"),
                                field_text(f, "rejected_total"));

  const std::array<std::string, 10> head{"NODE", "ADDRESS", "STATE", "ADMIN", "ELIGIBLE", "CONN", "SHARE", "QPS",
                                         "P99ms", "DRAIN"};
  std::vector<std::array<std::string, 10>> rows;
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
  std::array<std::size_t, 10> width{};
  for (std::size_t i = 0; i < head.size(); ++i) {
    width[i] = head[i].size();
    for (const auto& r : rows) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::array<std::string, 10>& cells) {
    std::string l;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      // Numbers align right, words left, so that columns of figures compare at a glance.
      const bool number = i >= 5 && i <= 8;
      l += number ? fmt::format("{:>{}}  ", cells[i], width[i]) : fmt::format("{:<{}}  ", cells[i], width[i]);
    }
    l.erase(l.find_last_not_of(' ') + 1);
    return l + "\n";
  };
  out += line(head);
  for (const auto& r : rows) out += line(r);

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
