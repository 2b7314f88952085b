#pragma once

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

/// One node's recent past, kept by the client: the sparklines (connections, queries per second,
/// p99 latency) and the rates the agent's cumulative counters give between two status objects.
struct node_history {
  static constexpr std::size_t samples = 60;  ///< one per second: the last minute
  std::deque<double> connections;              ///< oldest first, as the others
  std::deque<double> qps;                      ///< the agent's queries per second (its last 5 s)
  std::deque<double> p99_ms;                   ///< the agent's p99 latency (its last 5 s); 0 when no query ended
  screen_clock::time_point last_sample{};
  // The previous counters and when they were read, for rates.
  std::uint64_t total = 0, bytes_in = 0, bytes_out = 0;
  screen_clock::time_point counters_at{};
  double new_per_s = 0, in_per_s = 0, out_per_s = 0;
};

/// Everything the screen shows apart from the agent's status. Pure data: keys change it,
/// the layout reads it, only the live loop touches the terminal and the socket.
struct view_state {
  std::string selected;  ///< address of the selected node; empty selects the first
  sort_key sort = sort_key::name;
  std::string filter;  ///< only nodes whose name or address contains it
  bool paused = false;    ///< the display is frozen; updates keep arriving underneath
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
  std::map<std::string, node_history> history;  ///< by address
};

/// Records a status object into the per-node histories (sparkline, rates). Pure: `now` is given.
void record_status(view_state& v, const nlohmann::json& status, screen_clock::time_point now);

/// The nodes as shown: filtered and sorted by the view. Pure.
std::vector<const nlohmann::json*> visible_nodes(const view_state& v, const nlohmann::json& status);

}  // namespace galeratop
