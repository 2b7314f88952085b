#include "tui/view_state.hpp"

#include "tui/field_text.hpp"

#include <algorithm>
#include <array>

namespace galeratop {
namespace {
using json = nlohmann::json;

/// Problems first when sorting by state: what needs eyes sorts to the top.
int state_rank(const std::string& s) {
  constexpr std::array order{"down",   "non_primary", "suspect", "unknown",
                             "initialized", "joining", "joined",  "donor", "synced"};
  for (std::size_t i = 0; i < order.size(); ++i)
    if (s == order[i]) return static_cast<int>(i);
  return static_cast<int>(order.size());
}

/// A counter's rate; 0 when it went back (the node restarted, or the agent did).
template <typename T>
double per_second(T now, T before, double seconds) {
  return now >= before && seconds > 0 ? static_cast<double>(now - before) / seconds : 0;
}


const json& nodes_of(const json& status) {
  static const json none = json::array();
  auto it = status.find("nodes");
  return it != status.end() && it->is_array() ? *it : none;
}

double number_in(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}
}  // namespace

double figure_now(figure f, const json& node, const node_history* h) {
  const json wsrep = node.value("wsrep", json::object());
  switch (f) {
    case figure::connections: return number_in(node, "connections");
    case figure::qps: return number_in(node, "queries_per_second");
    case figure::p50_ms: return number_in(node, "query_p50_ms");
    case figure::p99_ms: return number_in(node, "query_p99_ms");
    case figure::recv_queue: return number_in(wsrep, "local_recv_queue");
    case figure::send_queue: return number_in(wsrep, "local_send_queue");
    case figure::fc_paused_pct: return 100 * number_in(wsrep, "flow_control_paused");
    case figure::cert_failures_per_s: return h ? h->cert_failures_per_s : 0;
    case figure::bf_aborts_per_s: return h ? h->bf_aborts_per_s : 0;
    case figure::commits_per_s: return h ? h->commits_per_s : 0;
  }
  return 0;
}

void record_status(node_histories& history, const json& status, screen_clock::time_point now) {
  for (const json& n : nodes_of(status)) {
    node_history& h = history[n.value("address", "")];
    const auto total = n.value("connections_total", std::uint64_t{0});
    const auto in = n.value("bytes_in", std::uint64_t{0});
    const auto out = n.value("bytes_out", std::uint64_t{0});
    const double dt = std::chrono::duration<double>(now - h.counters_at).count();
    if (h.counters_at != screen_clock::time_point{} && dt >= 0.2) {  // shorter gaps make noisy rates
      h.new_per_s = per_second(total, h.total, dt);
      h.in_per_s = per_second(in, h.bytes_in, dt);
      h.out_per_s = per_second(out, h.bytes_out, dt);
    }
    if (h.counters_at == screen_clock::time_point{} || dt >= 0.2) {
      h.total = total, h.bytes_in = in, h.bytes_out = out, h.counters_at = now;
    }
    // One sample per second whatever the refresh interval, so the sparkline always spans a minute.
    if (h.last_sample == screen_clock::time_point{} || now - h.last_sample >= std::chrono::seconds(1)) {
      // The wsrep counters move once per monitor check: their rates are taken a sample apart,
      // where a check's jitter is small, not between two pushes (which may fall between checks).
      const json wsrep = n.value("wsrep", json::object());
      const double cert = number_in(wsrep, "local_cert_failures"), bf = number_in(wsrep, "local_bf_aborts"),
                   commits = number_in(wsrep, "local_commits");
      if (h.last_sample != screen_clock::time_point{}) {
        const double since = std::chrono::duration<double>(now - h.last_sample).count();
        h.cert_failures_per_s = per_second(cert, h.cert_failures, since);
        h.bf_aborts_per_s = per_second(bf, h.bf_aborts, since);
        h.commits_per_s = per_second(commits, h.commits, since);
      }
      h.cert_failures = cert, h.bf_aborts = bf, h.commits = commits;
      for (std::size_t f = 0; f < figure_count; ++f) {
        std::deque<double>& series = h.series[f];
        series.push_back(figure_now(static_cast<figure>(f), n, &h));
        if (series.size() > node_history::samples) series.pop_front();
      }
      h.last_sample = now;
    }
  }
}

const json* selected_node(const view_state& v, const json& status) {
  const auto nodes = visible_nodes(v, status);
  if (nodes.empty()) return nullptr;
  for (const json* n : nodes)
    if (n->value("address", "") == v.selected) return n;
  return nodes.front();
}

std::vector<const json*> visible_nodes(const view_state& v, const json& status) {
  std::vector<const json*> out;
  for (const json& n : nodes_of(status)) {
    const std::string name = n.value("name", ""), address = n.value("address", "");
    if (v.filter.empty() || name.find(v.filter) != std::string::npos || address.find(v.filter) != std::string::npos)
      out.push_back(&n);
  }
  auto name = [](const json* n) { return n->value("name", ""); };
  std::ranges::stable_sort(out, [&](const json* a, const json* b) {
    switch (v.sort) {
      case sort_key::state: return state_rank(shown_state(*a)) < state_rank(shown_state(*b));
      case sort_key::connections: return a->value("connections", 0u) > b->value("connections", 0u);
      case sort_key::address: return a->value("address", "") < b->value("address", "");
      case sort_key::name: break;
    }
    return name(a) < name(b);
  });
  return out;
}

}  // namespace galeratop
