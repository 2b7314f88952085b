#include "tui/screen_layout.hpp"

#include "tui/field_text.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <functional>

#include "tui/agent_pair.hpp"
#include "tui/event_text.hpp"
#include "tui/key_map.hpp"
#include "tui/node_detail.hpp"
#include "tui/writer_text.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;

attr severity_attr(const std::string& severity) {
  return severity == "critical" ? attr::bad : severity == "warning" ? attr::warn : attr::normal;
}

/// What every cell of a row may need besides its node.
struct table_context {
  const view_state& v;
  std::uint64_t total_connections = 0;
  std::int64_t max_committed = -1;
  // The sparklines' common scale, so that nodes compare at a glance: the highest in the minute.
  double max_connections = 1;
  double max_qps = 1;
  double max_p99_ms = 1;
  bool writer_settled = true;  ///< no writer-listener session is left on another node than the writer
};

struct cell {
  std::string text;
  attr a = attr::normal;
};

/// A column of the node table. Lower priority numbers are dropped last.
struct column {
  std::string_view title;
  std::size_t width;  // 0: as wide as its widest cell
  bool right;
  int priority;
  std::function<cell(const json&, const table_context&)> value;
  bool writer_only = false;  // shown only when the agent has a writer listener
};

std::string blocks(double fraction, std::size_t width, bool ascii) {
  const auto filled = static_cast<std::size_t>(std::lround(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(width)));
  std::string out;
  for (std::size_t i = 0; i < width; ++i) out += i < filled ? (ascii ? "#" : "█") : (ascii ? "." : "·");
  return out;
}

const node_history* history_of(const table_context& c, const json& n) {
  auto it = c.v.history.find(n.value("address", ""));
  return it == c.v.history.end() ? nullptr : &it->second;
}

std::vector<column> columns() {
  return {
      {"NODE", 0, false, 0, [](const json& n, const table_context&) { return cell{field_text(n, "name")}; }},
      // The writer of writer listeners: yellow while a switch leaves sessions on another node.
      {"W", 1, false, 0,
       [](const json& n, const table_context& c) {
         if (!n.value("writer", false)) return cell{" "};
         return cell{"W", c.writer_settled ? attr::good : attr::warn};
       },
       true},
      {"ADDRESS", 0, false, 4, [](const json& n, const table_context&) { return cell{field_text(n, "address")}; }},
      {"STATE", 11, false, 0,
       [](const json& n, const table_context&) {
         const std::string state = shown_state(n);
         return cell{state, state_attr(state)};
       }},
      {"ADMIN", 5, false, 0,
       [](const json& n, const table_context&) {
         const std::string a = n.value("admin", "ready");
         return cell{a, a == "ready" ? attr::normal : attr::warn};
       }},
      {"ELIG", 4, false, 1,
       [](const json& n, const table_context&) {
         return n.value("eligible", false) ? cell{"yes", attr::good} : cell{"no", attr::dim};
       }},
      {"CONN", 5, true, 0, [](const json& n, const table_context&) { return cell{field_text(n, "connections")}; }},
      {"SPREAD", 10, false, 2,
       [](const json& n, const table_context& c) {
         const double share = share_of(n.value("connections", std::uint64_t{0}), c.total_connections);
         return cell{blocks(share, 10, c.v.ascii), attr::good};
       }},
      {"SHARE", 5, true, 1,
       [](const json& n, const table_context& c) {
         return cell{share_text(n.value("connections", std::uint64_t{0}), c.total_connections)};
       }},
      {"NEW/s", 6, true, 3,
       [](const json& n, const table_context& c) {
         const node_history* h = history_of(c, n);
         return cell{h ? rate(h->new_per_s) : "-"};
       }},
      {"QPS", 5, true, 4, [](const json& n, const table_context&) { return cell{qps_text(n)}; }},
      {"P99ms", 5, true, 4, [](const json& n, const table_context&) { return cell{p99_text(n)}; }},
      {"IN/s", 6, true, 5,
       [](const json& n, const table_context& c) {
         const node_history* h = history_of(c, n);
         return cell{h ? bytes(h->in_per_s) : "-"};
       }},
      {"OUT/s", 6, true, 5,
       [](const json& n, const table_context& c) {
         const node_history* h = history_of(c, n);
         return cell{h ? bytes(h->out_per_s) : "-"};
       }},
      {"RECVQ", 5, true, 6,
       [](const json& n, const table_context&) { return cell{field_text(n.value("wsrep", json::object()), "local_recv_queue")}; }},
      {"SENDQ", 5, true, 7,
       [](const json& n, const table_context&) { return cell{field_text(n.value("wsrep", json::object()), "local_send_queue")}; }},
      {"FC%", 5, true, 6,
       [](const json& n, const table_context&) {
         const json w = n.value("wsrep", json::object());
         if (!w.is_object() || !w.contains("flow_control_paused")) return cell{"-"};
         const double pct = 100.0 * w["flow_control_paused"].get<double>();
         return cell{fmt::format("{:.0f}", pct), pct >= 10 ? attr::warn : attr::normal};
       }},
      {"LAG", 6, true, 3,
       [](const json& n, const table_context& c) {
         const json w = n.value("wsrep", json::object());
         if (!w.is_object() || !w.contains("last_committed") || c.max_committed < 0) return cell{"-"};
         const auto lag = c.max_committed - w["last_committed"].get<std::int64_t>();
         return cell{std::to_string(lag), lag > 100 ? attr::warn : attr::normal};
       }},
      {"CHECK", 6, true, 5,
       [](const json& n, const table_context&) {
         const json m = n.value("monitor", json::object());
         if (!m.is_object() || !m.value("up", false)) return cell{"-", attr::dim};
         return cell{fmt::format("{:.1f}ms", m.value("latency_ms", 0.0))};
       }},
      {"LAST 60s", 12, false, 4,
       [](const json& n, const table_context& c) {
         const node_history* h = history_of(c, n);
         return cell{sparkline(h ? &h->of(figure::connections) : nullptr, 12, c.max_connections, c.v.ascii), attr::good};
       }},
      // Queries per second and p99 latency over the last minute: where the width allows (last in).
      {"QPS 60s", 12, false, 8,
       [](const json& n, const table_context& c) {
         const node_history* h = history_of(c, n);
         return cell{sparkline(h ? &h->of(figure::qps) : nullptr, 12, c.max_qps, c.v.ascii), attr::good};
       }},
      {"P99 60s", 12, false, 8,
       [](const json& n, const table_context& c) {
         const node_history* h = history_of(c, n);
         return cell{sparkline(h ? &h->of(figure::p99_ms) : nullptr, 12, c.max_p99_ms, c.v.ascii), attr::warn};
       }},
  };
}

/// The node table: a header and one line per visible node, with the columns that fit.
std::vector<screen_line> node_table(const json& status, const view_state& v, std::size_t width) {
  const auto nodes = visible_nodes(v, status);
  table_context ctx{v};
  for (const json* n : nodes) {
    ctx.total_connections += n->value("connections", std::uint64_t{0});
    const json w = n->value("wsrep", json::object());
    if (w.is_object() && w.contains("last_committed"))
      ctx.max_committed = std::max(ctx.max_committed, w["last_committed"].get<std::int64_t>());
    if (auto h = v.history.find(n->value("address", "")); h != v.history.end())
      for (auto [f, top] : {std::pair{figure::connections, &ctx.max_connections}, std::pair{figure::qps, &ctx.max_qps},
                            std::pair{figure::p99_ms, &ctx.max_p99_ms}})
        for (double x : h->second.of(f)) *top = std::max(*top, x);
  }
  if (const json* w = writer_of(status)) ctx.writer_settled = w->value("settled", true);
  std::vector<column> all = columns();
  if (!writer_of(status)) std::erase_if(all, [](const column& c) { return c.writer_only; });
  std::vector<std::vector<cell>> cells(nodes.size());
  std::vector<std::size_t> widths;
  for (const column& c : all) {
    std::size_t w = c.width ? c.width : c.title.size();
    for (std::size_t r = 0; r < nodes.size(); ++r) {
      cells[r].push_back(c.value(*nodes[r], ctx));
      if (!c.width) w = std::max(w, std::min<std::size_t>(display_width(cells[r].back().text), 24));
    }
    widths.push_back(std::max(w, c.title.size()));
  }
  // Most important first, until one does not fit: from there on every less important one is
  // dropped too, so a narrower terminal always loses the same columns in the same order.
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::ranges::stable_sort(order, {}, [&](std::size_t i) { return all[i].priority; });
  std::vector<bool> shown(all.size(), false);
  std::size_t used = 1;
  for (std::size_t i : order) {
    if (used + widths[i] + 1 > width + 1) break;
    used += widths[i] + 1;
    shown[i] = true;
  }
  std::vector<screen_line> out;
  screen_line head{span{" ", attr::header}};
  for (std::size_t i = 0; i < all.size(); ++i)
    if (shown[i]) head.push_back({pad(all[i].title, widths[i], all[i].right) + " ", attr::header});
  out.push_back(head);
  for (std::size_t r = 0; r < nodes.size(); ++r) {
    const bool selected = nodes[r]->value("address", "") == v.selected || (v.selected.empty() && r == 0);
    screen_line line{span{selected ? ">" : " ", selected ? attr::selected : attr::normal}};
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (!shown[i]) continue;
      const cell& c = cells[r][i];
      const attr a = selected && c.a == attr::normal ? attr::selected : c.a;
      line.push_back({pad(c.text, widths[i], all[i].right) + " ", a});
    }
    out.push_back(std::move(line));
  }
  if (nodes.empty()) out.push_back(text_line(v.filter.empty() ? " no node" : " no node matches /" + v.filter, attr::dim));
  return out;
}

/// "listeners: app 12 · rw 8→db2": each listener's open sessions, and for a writer listener the
/// nodes they are on, the writer first (even with none yet). Narrower: without the nodes, then only
/// the count of listeners and their sum.
screen_line listeners_line(const json& status, const view_state& v, std::size_t width) {
  const std::string_view arrow = v.ascii ? "->" : "→", dot = v.ascii ? " | " : " · ";
  const std::string writer = writer_node(status);
  std::string full = " listeners: ", bare = full;
  std::uint64_t total = 0;
  const json all = status.value("listeners", json::array());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const json& l = all[i];
    const auto where = listener_connections(status, l);
    std::uint64_t open = 0;
    for (const auto& [node, count] : where) open += count;
    total += open;
    const std::string sep = i ? std::string(dot) : "";
    bare += fmt::format("{}{} {}", sep, field_text(l, "name"), open);
    if (l.value("role", "") != "writer") {
      full += fmt::format("{}{} {}", sep, field_text(l, "name"), open);
      continue;
    }
    std::string to;
    const auto on_writer = std::ranges::find_if(where, [&](const auto& p) { return p.first == writer; });
    to += fmt::format(" {}{}{}", on_writer == where.end() ? 0 : on_writer->second, arrow, writer.empty() ? "none" : writer);
    for (const auto& [node, count] : where)
      if (node != writer) to += fmt::format(" {}{}{}", count, arrow, node);
    full += fmt::format("{}{}{}", sep, field_text(l, "name"), to);
  }
  for (std::string* text : {&full, &bare})
    if (display_width(*text) <= width) return text_line(std::move(*text));
  return text_line(fmt::format(" listeners: {}, {} open", all.size(), total));
}

/// " writer db2 epoch 7", then what needs eyes (a switch under way, clients waiting, agents that
/// disagree, an unreadable row), then who set it and why while the width allows; " no writer: WHY" when none.
screen_line writer_line(const json& status, const json& w, std::size_t width) {
  screen_line out;
  const json row = w.value("row", json::object());
  const std::string node = writer_node(status);
  if (node.empty()) {
    out.push_back({fmt::format(" no writer: {}", field_text(w, "why")), attr::bad});
  } else {
    out.push_back({" writer ", attr::normal});
    out.push_back({node, attr::good});
    out.push_back({fmt::format(" epoch {}", field_text(w, "epoch")), attr::normal});
    if (!w.value("settled", true)) out.push_back({" switching", attr::warn});
  }
  if (const auto waiting = w.value("waiting", std::uint64_t{0}))
    out.push_back({fmt::format(" {} waiting", waiting), attr::warn});
  if (const auto n = disagreeing_agents(status).size())
    out.push_back({fmt::format(" {} agent(s) disagree", n), attr::bad});
  if (row.is_object() && !row.value("readable", true)) out.push_back({" row unreadable", attr::warn});
  if (!node.empty() && row.is_object()) {
    std::vector<span> optional;
    if (const std::string by = row.value("changed_by", ""); !by.empty())
      optional.push_back({fmt::format("  by {} {} ago", by, elapsed_text(row.value("age_seconds", 0.0))), attr::dim});
    if (const std::string reason = row.value("reason", ""); !reason.empty())
      optional.push_back({": " + reason, attr::dim});
    std::size_t used = 0;
    for (const span& s : out) used += display_width(s.text);
    for (span& s : optional) {
      if ((used += display_width(s.text)) > width) break;
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<screen_line> header(const json& status, const view_state& v, std::size_t width,
                                screen_clock::time_point now, const std::string& version) {
  std::vector<screen_line> out;
  screen_line top{span{" galeratop ", attr::title}};
  if (!v.connected) {
    const double down = std::chrono::duration<double>(now - v.disconnected_since).count();
    top.push_back({fmt::format(" DISCONNECTED — retrying ({}; {}) ", v.disconnect_reason, elapsed_text(down)), attr::bad});
  }
  if (status.is_object()) {
    const json c = status.value("cluster", json::object());
    const std::string cs = c.value("status", "");
    top.push_back({fmt::format(" cluster {} ", c.value("name", "").empty() ? "-" : c.value("name", "")), attr::normal});
    top.push_back({cs, cs == "Primary" ? attr::good : attr::bad});
    const std::size_t parts = c.value("partitions", json::array()).size();
    const std::size_t advisories = status.value("advisories", json::array()).size();
    top.push_back({fmt::format(" size {} conf {} ", field_text(c, "size"), field_text(c, "conf_id")), attr::normal});
    top.push_back({fmt::format("partitions {}", parts), parts > 1 ? attr::bad : attr::normal});
    top.push_back({fmt::format(" advisories {}", advisories), advisories ? attr::warn : attr::normal});
  }
  if (v.paused) top.push_back({"  PAUSED", attr::warn});
  // The agent's uptime and the refresh interval are the first to go on a narrow screen.
  std::vector<span> optional{{fmt::format("  galeratop {}", version), attr::dim}};  // the client's own version
  if (status.is_object())
    optional.push_back({fmt::format("  agent {} up {}", field_text(status, "version"),
                                    elapsed_text(status.value("uptime_seconds", 0.0))),
                        attr::normal});
  optional.push_back({fmt::format("  every {}", v.interval.count() >= 1000 ? fmt::format("{}s", v.interval.count() / 1000)
                                                                            : fmt::format("{}ms", v.interval.count())),
                      attr::normal});
  std::size_t used = 0;
  for (const span& s : top) used += display_width(s.text);
  for (span& s : optional)
    if ((used += display_width(s.text)) <= width) top.push_back(std::move(s));
  out.push_back(std::move(top));
  if (status.is_object()) {
    const json f = status.value("frontend", json::object());
    double new_per_s = 0;
    for (const auto& [address, h] : v.history) new_per_s += h.new_per_s;
    const auto rejected = f.value("rejected_total", std::uint64_t{0});
    // With several listeners the frontend's figures are their sum; the listeners line splits them.
    const bool listeners = shows_listeners(status);
    std::vector<span> frontend{span{fmt::format(" {}: {} open, {} new/s, {} accepted, ",
                                                listeners ? "clients" : "listener " + field_text(f, "listen"),
                                                field_text(f, "current"), rate(new_per_s), field_text(f, "accepted_total")),
                                    attr::normal},
                               span{fmt::format("{} rejected", rejected), rejected ? attr::warn : attr::normal}};
    // Clients held for want of a node: only while there are some, the moment an operator must see.
    if (const auto held = f.value("waiting", std::uint64_t{0}))
      frontend.push_back(span{fmt::format(", {} held for a node", held), attr::warn});
    out.push_back(std::move(frontend));
    if (listeners) out.push_back(listeners_line(status, v, width));
    if (const json* w = writer_of(status)) out.push_back(writer_line(status, *w, width));
  } else {
    out.push_back(text_line(v.connected ? " waiting for the first status…" : " no status yet", attr::dim));
  }
  return out;
}

std::vector<screen_line> below_table(const json& status) {
  std::vector<screen_line> out;
  for (const json& n : status.value("nodes", json::array())) {
    const json d = n.value("drain", json());
    if (!d.is_object()) continue;
    out.push_back(text_line(fmt::format(" {} {}: {} connection(s) left, {}", n.value("admin", ""), n.value("name", ""),
                                        field_text(d, "remaining"), elapsed_text(d.value("elapsed_seconds", 0.0))),
                            attr::warn));
  }
  const json advisories = status.value("advisories", json::array());
  if (advisories.empty()) {
    out.push_back(text_line(" advisories: none", attr::dim));
  } else {
    out.push_back(text_line(fmt::format(" advisories ({}):", advisories.size()), attr::header));
    for (const json& a : advisories)
      out.push_back(text_line(fmt::format("  {:<8} {}: {}", field_text(a, "severity"), field_text(a, "id"), field_text(a, "message")),
                              severity_attr(a.value("severity", ""))));
  }
  if (const json b = status.value("bootstrap_candidate", json()); b.is_object())
    out.push_back(text_line(fmt::format(" bootstrap {} ({}), seqno {}: {}", field_text(b, "node"), field_text(b, "address"),
                                        field_text(b, "seqno"), field_text(b, "command")),
                            attr::bad));
  return out;
}

/// The confirmation question for the pending admin action.
std::string question(const view_state& v) {
  if (v.pending_command == "weight")
    return fmt::format(" Set the weight of {} ({}) to {}? [y/N] ", v.pending_name, v.pending_node,
                       v.input.empty() ? "the configured one" : v.input);
  if (v.pending_command == "writer")
    return fmt::format(" Make {} ({}) the writer of every agent's writer listeners? [y/N] ", v.pending_name,
                       v.pending_node);
  return fmt::format(" {} {} ({})? [y/N] ", v.pending_command, v.pending_name, v.pending_node);
}

screen_line footer(const view_state& v, const json& status) {
  switch (v.mode) {
    case screen_mode::confirm:
      return {span{question(v), attr::selected}};
    case screen_mode::weight_input:
      return {span{fmt::format(" Weight of {} (0-1000, empty = configured): {}_", v.pending_name, v.input), attr::selected},
              span{"  Enter confirm  Esc cancel", attr::dim}};
    case screen_mode::filter_input:
      return {span{fmt::format(" Filter: {}_", v.input), attr::selected}, span{"  Enter apply  Esc cancel", attr::dim}};
    default: break;
  }
  screen_line out;
  for (const key_binding& b : key_table()) {
    if (b.footer_keys.empty() || (v.readonly && b.admin) || (b.writer && !writer_of(status))) continue;
    if (b.footer_view == (v.detail ? key_binding::footer_in::table : key_binding::footer_in::detail)) continue;
    if (b.agents && v.agents.size() < 2) continue;
    out.push_back({fmt::format(" {}", b.footer_keys), attr::key});
    out.push_back({fmt::format(" {} ", b.footer_word), attr::normal});
  }
  return out;
}

std::vector<screen_line> help_screen(const view_state& v, const json& status) {
  std::vector<screen_line> out{text_line(" galeratop keys (any key returns)", attr::title), {}};
  for (const key_binding& b : key_table()) {
    const bool readonly = b.admin && v.readonly, no_writer = b.writer && status.is_object() && !writer_of(status);
    out.push_back({span{fmt::format("  {:<10}", b.keys), attr::key},
                   span{fmt::format("{}{}", b.help, readonly    ? " (disabled: --readonly)"
                                                    : no_writer ? " (the agent has no writer listener)"
                                                                : ""),
                        readonly || no_writer ? attr::dim : attr::normal}});
  }
  out.push_back({});
  out.push_back(text_line("  Admin keys ask for confirmation: only y acts, anything else cancels.", attr::dim));
  out.push_back(text_line("  Colours: synced green, donor/joining yellow, non-Primary/down red. NO_COLOR disables them.",
                          attr::dim));
  out.push_back(text_line("  W (column after NODE): the node writer listeners send every session to; yellow while a "
                          "switch leaves sessions on the old one.",
                          attr::dim));
  return out;
}

}  // namespace

/// How an event stands out: what went wrong in the warning or error colour, what came right in
/// the good one, operators' actions as keys are drawn.
attr event_attr(const json& e) {
  const std::string kind = e.value("kind", "");
  const std::string message = e.value("message", "");
  if (kind == "rejected") return attr::bad;
  if (kind == "operator") return attr::key;
  if (kind == "drained") return attr::good;
  if (kind == "state" || kind == "eligibility" || kind == "writer")
    return message.find("not eligible") != std::string::npos || message.find("no writer") != std::string::npos
               ? attr::warn
               : attr::good;
  if (kind == "advisory") return message.find(" cleared") != std::string::npos ? attr::good : attr::warn;
  if (kind == "reload") return message.starts_with("reload refused") ? attr::bad : attr::normal;
  return attr::normal;
}

/// The latest events (of one node, unless `node` is empty) in the lines the rest leaves free (at
/// least one event, or nothing): a blank, the title, then the newest last, as `galeratop events`
/// prints them.
std::vector<screen_line> events_pane(const json& status, std::size_t free_lines, const std::string& node) {
  const json all = status.value("events", json::array());
  if (free_lines < 3 || !all.is_array()) return {};
  std::vector<const json*> events;
  for (const json& e : all)
    if (node.empty() || e.value("node", "") == node) events.push_back(&e);
  if (events.empty()) return {};
  const std::size_t shown = std::min(free_lines - 2, events.size());
  std::vector<screen_line> out{
      {}, text_line(node.empty() ? fmt::format(" Events (the last {} of galeratop events)", shown)
                                 : fmt::format(" Events of {} (the last {} of galeratop events)", node, shown),
                    attr::header)};
  for (std::size_t i = events.size() - shown; i < events.size(); ++i)
    out.push_back(text_line(" " + event_line(*events[i], false), event_attr(*events[i])));
  return out;
}

std::vector<screen_line> layout_screen(const json& status, const view_state& v, int width, int height,
                                       screen_clock::time_point now, const std::string& version) {
  const auto w = static_cast<std::size_t>(std::max(width, 1));
  const auto h = static_cast<std::size_t>(std::max(height, 1));
  std::vector<screen_line> body;
  const json* detailed = v.detail && status.is_object() ? selected_node(v, status) : nullptr;
  if (v.mode == screen_mode::help) {
    body = help_screen(v, status);
  } else {
    body = header(status, v, w, now, version);
    for (auto& l : agents_lines(v)) body.push_back(std::move(l));
    body.push_back({});
    if (detailed) {
      const std::size_t room = h > body.size() + 2 ? h - body.size() - 2 : 0;  // the message and footer lines
      for (auto& l : node_detail(status, *detailed, v, w, room)) body.push_back(std::move(l));
    } else if (status.is_object()) {
      for (auto& l : node_table(status, v, w)) body.push_back(std::move(l));
      body.push_back({});
      for (auto& l : below_table(status)) body.push_back(std::move(l));
    }
  }
  // The last two lines are the message and the footer; the body gives way first, from its end.
  const std::size_t room = h >= 2 ? h - 2 : 0;
  if (v.mode != screen_mode::help && status.is_object() && body.size() < room)
    for (auto& l : events_pane(status, room - body.size(), detailed ? detailed->value("name", "") : ""))
      body.push_back(std::move(l));
  if (body.size() > room) {
    const std::size_t hidden = body.size() - room + 1;
    body.resize(room ? room - 1 : 0);
    if (room) body.push_back(text_line(fmt::format(" … {} more line(s): enlarge the terminal", hidden), attr::dim));
  }
  std::vector<screen_line> out;
  for (auto& l : body) out.push_back(clip(std::move(l), w));
  while (out.size() < room) out.push_back({});
  if (h >= 2) out.push_back(clip(text_line(" " + v.message, v.message_is_error ? attr::bad : attr::normal), w));
  out.push_back(clip(footer(v, status), w));
  out.resize(h);
  return out;
}

}  // namespace galeratop
