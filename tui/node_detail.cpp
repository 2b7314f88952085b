#include "tui/node_detail.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

#include "tui/event_text.hpp"
#include "tui/field_text.hpp"
#include "tui/writer_text.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;

/// One row of the figures' table: what it is called, how its value reads, and the least its
/// sparkline's scale goes to (so that a minute of near-zero noise draws flat, not full height).
struct figure_row {
  figure f;
  std::string_view label;
  std::string (*text)(double);
  double least_top;
};

std::string whole(double v) { return fmt::format("{:.0f}", v); }
std::string percent(double v) { return v < 10 ? fmt::format("{:.1f}%", v) : fmt::format("{:.0f}%", v); }
std::string millis(double v) { return v < 10 ? fmt::format("{:.2f}", v) : fmt::format("{:.0f}", v); }

constexpr std::array figure_rows{
    figure_row{figure::recv_queue, "recv queue", whole, 1},
    figure_row{figure::send_queue, "send queue", whole, 1},
    figure_row{figure::fc_paused_pct, "flow control paused", percent, 1},
    figure_row{figure::cert_failures_per_s, "cert failures/s", rate, 1},
    figure_row{figure::bf_aborts_per_s, "BF aborts/s", rate, 1},
    figure_row{figure::commits_per_s, "commits/s", rate, 1},
    figure_row{figure::qps, "queries/s", rate, 1},
    figure_row{figure::p50_ms, "p50 latency ms", millis, 1},
    figure_row{figure::p99_ms, "p99 latency ms", millis, 1},
};

/// A line of the detail, and how early it gives way when the terminal is short: 0 never, then
/// the higher first.
struct ranked_line {
  screen_line line;
  int drop = 0;
};
using ranked_lines = std::vector<ranked_line>;
constexpr int separator = 5, totals = 4, why_line = 3, older_failure = 2, listeners = 1;

constexpr std::size_t label_width = 21, value_width = 8;

/// The time of day of one of the agent's times, as the events show it; "-" without one.
std::string clock_of(const json& j, const char* key) {
  const std::string t = time_of_day(j.value(key, ""));
  return t.empty() ? "-" : t;
}

ranked_lines identity(const json& n) {
  ranked_lines out;
  const std::string state = shown_state(n);
  const json wsrep = n.value("wsrep", json::object());
  screen_line top{span{" " + field_text(n, "name"), attr::title}, span{fmt::format("  {}  ", field_text(n, "address"))},
                  span{state, state_attr(state)}};
  if (wsrep.is_object()) top.push_back({fmt::format(" ({})", field_text(wsrep, "local_state_comment")), attr::dim});
  const std::string admin = n.value("admin", "ready");
  top.push_back({"  admin ", attr::normal});
  top.push_back({admin, admin == "ready" ? attr::normal : attr::warn});
  top.push_back(n.value("eligible", false) ? span{"  eligible", attr::good} : span{"  not eligible", attr::warn});
  if (n.value("writer", false)) top.push_back({"  writer", attr::good});
  out.push_back({std::move(top)});
  if (const std::string reason = n.value("reason", ""); !reason.empty())
    out.push_back({text_line(fmt::format("  why: {}", reason), attr::dim), why_line});
  // The intent: the operator's word on the node, which no health change undoes.
  const json intent = n.value("intent", json::object());
  std::string said = fmt::format("  intent: {}, weight {}", admin, field_text(n, "weight"));
  if (n.contains("admin_since") && !n["admin_since"].is_null()) said += fmt::format(" (admin since {})", clock_of(n, "admin_since"));
  if (intent.is_object() && !intent.value("by", json()).is_null())
    said += fmt::format("; changed {} by {}", clock_of(intent, "changed"), field_text(intent, "by"));
  else
    said += "; changed by nobody since this agent started";
  if (intent.is_object() && intent.value("version", 0) > 0) said += fmt::format("; galeratop.intents version {}", field_text(intent, "version"));
  if (intent.is_object() && intent.value("pending", false)) said += ", not shared yet";
  out.push_back({text_line(std::move(said), intent.is_object() && intent.value("pending", false) ? attr::warn : attr::normal)});
  return out;
}

ranked_lines figures(const json& n, const view_state& v, std::size_t width) {
  ranked_lines out;
  auto h = v.history.find(n.value("address", ""));
  const node_history* history = h == v.history.end() ? nullptr : &h->second;
  // One character per second of the minute where the width allows; "peak" keeps the scale readable.
  const std::size_t used = 2 + label_width + value_width + 2, peak_width = 12;
  const std::size_t spark = std::clamp<std::size_t>(width > used + peak_width ? width - used - peak_width : 12, 12,
                                                    node_history::samples);
  out.push_back({{span{fmt::format("  {}{} last 60s", pad("WSREP AND QUERIES", label_width), pad("NOW", value_width, true)),
                       attr::header}}});
  for (const figure_row& r : figure_rows) {
    const std::deque<double>* series = history ? &history->of(r.f) : nullptr;
    double peak = 0;
    if (series) for (double x : *series) peak = std::max(peak, x);
    const double now = figure_now(r.f, n, history);
    const bool trouble = (r.f == figure::cert_failures_per_s || r.f == figure::bf_aborts_per_s) && now > 0;
    out.push_back({{span{"  " + pad(r.label, label_width)},
                    span{pad(r.text(now), value_width, true) + "  ", trouble ? attr::warn : attr::normal},
                    span{sparkline(series, spark, std::max(peak, r.least_top), v.ascii), attr::good},
                    span{fmt::format("  peak {}", r.text(peak)), attr::dim}}});
  }
  const json wsrep = n.value("wsrep", json::object());
  if (wsrep.is_object())
    out.push_back({text_line(fmt::format("  last committed {}  cluster {} conf {} size {}", field_text(wsrep, "last_committed"),
                                         field_text(wsrep, "cluster_status"), field_text(wsrep, "cluster_conf_id"),
                                         field_text(wsrep, "cluster_size")))});
  else
    out.push_back({text_line("  no wsrep status: the monitor's last check failed", attr::bad)});
  return out;
}

ranked_lines sessions(const json& status, const json& n) {
  ranked_lines out;
  const auto open = n.value("connections", std::int64_t{0});
  const auto in_transaction = n.value("in_transaction", std::int64_t{0});
  const auto opaque = n.value("opaque", std::int64_t{0});
  out.push_back({{span{"  SESSIONS", attr::header},
                  span{fmt::format(" {} open: {} in a transaction, {} outside one, {} opaque", open, in_transaction,
                                   std::max<std::int64_t>(0, open - in_transaction - opaque), opaque)}}});
  std::string per;
  const std::string name = n.value("name", "");
  for (const json& l : status.value("listeners", json::array()))
    for (const auto& [node, count] : listener_connections(status, l))
      if (node == name) per += fmt::format("{}{} {}", per.empty() ? "" : ", ", field_text(l, "name"), count);
  out.push_back({text_line(fmt::format("  per listener: {}", per.empty() ? "none" : per)), listeners});
  out.push_back({text_line(fmt::format("  since the agent started: {} connected, {} connect errors, {} closed at a safe point, "
                                      "{} cut, {} became opaque",
                                      field_text(n, "connections_total"), field_text(n, "connect_errors"),
                                      field_text(n, "safe_closes_total"), field_text(n, "sessions_cut_total"),
                                      field_text(n, "opaque_total")),
                          attr::dim),
                 totals});
  return out;
}

ranked_lines monitor(const json& n) {
  ranked_lines out;
  const json m = n.value("monitor", json::object());
  const bool up = m.is_object() && m.value("up", false);
  out.push_back({{span{"  MONITOR", attr::header}, span{up ? " up" : " down", up ? attr::good : attr::bad},
                  span{fmt::format(", last check {:.1f} ms, {} failed check(s) since the agent started",
                                   m.value("latency_ms", 0.0), field_text(m, "errors_total"))}}});
  const json recent = m.is_object() ? m.value("recent_errors", json::array()) : json::array();
  if (recent.empty()) out.push_back({text_line("  no failed check", attr::dim), older_failure});
  for (const json& e : recent) {
    const auto count = e.value("count", std::uint64_t{1});
    const std::string when = count > 1 ? fmt::format("{} to {} x{}", clock_of(e, "first"), clock_of(e, "last"), count)
                                       : clock_of(e, "first");
    // The newest failure stays longest: it is what the node is going through.
    out.push_back({text_line(fmt::format("  {}  {}", when, field_text(e, "error")), attr::warn),
                   &e == &recent.back() ? 0 : older_failure});
  }
  return out;
}
}  // namespace

std::vector<screen_line> node_detail(const json& status, const json& node, const view_state& v, std::size_t width,
                                     std::size_t height) {
  ranked_lines all;
  for (ranked_lines part : {identity(node), figures(node, v, width), sessions(status, node), monitor(node)}) {
    if (!all.empty()) all.push_back({{}, separator});
    for (auto& l : part) all.push_back(std::move(l));
  }
  // What does not fit goes, the least needed first and from the bottom up within a rank.
  for (int rank = separator; rank > 0 && all.size() > height; --rank)
    for (std::size_t i = all.size(); i-- > 0 && all.size() > height;)
      if (all[i].drop == rank) all.erase(all.begin() + static_cast<std::ptrdiff_t>(i));
  std::vector<screen_line> out;
  for (auto& l : all) out.push_back(std::move(l.line));
  return out;
}

}  // namespace galeratop
