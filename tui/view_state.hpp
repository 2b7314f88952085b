#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace galeratop {

using screen_clock = std::chrono::steady_clock;

/// What the screen is doing besides showing the cluster.
enum class screen_mode { normal, confirm, weight_input, filter_input, help };

/// The node table's sort orders, in the order `s` cycles through them.
enum class sort_key { name, state, connections, address };

/// The figures of a node the client keeps a minute of: the table's and the node detail's sparklines.
enum class figure {
  connections,
  qps,            ///< the agent's queries per second (its last 5 s)
  p50_ms,         ///< the agent's median latency (its last 5 s); 0 when no query ended
  p99_ms,         ///< likewise, p99
  recv_queue,     ///< wsrep_local_recv_queue
  send_queue,     ///< wsrep_local_send_queue
  fc_paused_pct,  ///< wsrep_flow_control_paused, in percent
  cert_failures_per_s,
  bf_aborts_per_s,
  commits_per_s,  ///< wsrep_local_commits
};
inline constexpr std::size_t figure_count = 10;

/// One node's recent past, kept by the client: the sparklines and the rates the agent's cumulative
/// counters give between two status objects.
struct node_history {
  static constexpr std::size_t samples = 60;  ///< one per second: the last minute
  std::array<std::deque<double>, figure_count> series;  ///< by figure, oldest first
  screen_clock::time_point last_sample{};
  // The previous counters and when they were read, for rates.
  std::uint64_t total = 0, bytes_in = 0, bytes_out = 0;
  double cert_failures = 0, bf_aborts = 0, commits = 0;  // wsrep counters (doubles), at last_sample
  screen_clock::time_point counters_at{};
  double new_per_s = 0, in_per_s = 0, out_per_s = 0, cert_failures_per_s = 0, bf_aborts_per_s = 0, commits_per_s = 0;

  const std::deque<double>& of(figure f) const { return series[static_cast<std::size_t>(f)]; }
};

/// Node histories by node address: one agent's view of the nodes over the last minute.
using node_histories = std::map<std::string, node_history>;

/// One of several agents the screen follows (`galeratop --control A --control B`): what the
/// agents line compares.
struct agent_glance {
  std::string control;  ///< as given on the command line
  bool connected = false;
  nlohmann::json status;  ///< its latest status; null before the first
};

/// A figure as it is now: from the node's status object, or for a rate from its history (which
/// may be null: 0 then). Pure.
double figure_now(figure f, const nlohmann::json& node, const node_history* h);

/// Everything the screen shows apart from the agent's status. Pure data: keys change it,
/// the layout reads it, only the live loop touches the terminal and the socket.
struct view_state {
  std::string selected;  ///< address of the selected node; empty selects the first
  sort_key sort = sort_key::name;
  std::string filter;  ///< only nodes whose name or address contains it
  bool paused = false;    ///< the display is frozen; updates keep arriving underneath
  bool detail = false;    ///< the selected node's detail is shown instead of the table (Enter; Esc returns)
  bool readonly = false;  ///< admin keys disabled (--readonly)
  bool ascii = false;     ///< the terminal is not UTF-8: bars and sparklines in ASCII
  std::chrono::milliseconds interval{1000};
  screen_mode mode = screen_mode::normal;
  std::string pending_command;  ///< what `confirm` will send: drain, ready, maint, weight
  std::string pending_node;     ///< its address
  std::string pending_name;     ///< its name, for the question
  std::string input;            ///< text being typed (weight, filter)
  std::string message;          ///< the agent's last answer or a hint, shown above the footer
  bool message_is_error = false;
  bool connected = false;
  std::string disconnect_reason;
  screen_clock::time_point disconnected_since{};
  node_histories history;  ///< of the agent shown
  /// With several agents, every one in command-line order, and the one shown (whose status the
  /// screen draws, and whom the admin keys ask); empty with one agent.
  std::vector<agent_glance> agents;
  std::size_t focus = 0;
};

/// Records a status object into the per-node histories (sparkline, rates). Pure: `now` is given.
void record_status(node_histories& history, const nlohmann::json& status, screen_clock::time_point now);

/// The nodes as shown: filtered and sorted by the view. Pure.
std::vector<const nlohmann::json*> visible_nodes(const view_state& v, const nlohmann::json& status);

/// The selected node among the visible ones (the first when none is selected yet); null when none is visible.
const nlohmann::json* selected_node(const view_state& v, const nlohmann::json& status);

}  // namespace galeratop
