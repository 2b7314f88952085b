#include "tui/key_map.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <string>

#include "balancer/core/weight.hpp"
#include "tui/writer_text.hpp"

namespace galeratop {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr key none{};
constexpr key ch(char32_t c) { return key{key::character, c}; }

constexpr std::array bindings{
    key_binding{"q/F10", {ch('q'), key{key::f10}, none}, action::quit, "quit", false, "q", "quit"},
    key_binding{"Up/k", {key{key::up}, ch('k'), none}, action::select_up, "select the node above", false, "↑↓",
                "select"},
    key_binding{"Down/j", {key{key::down}, ch('j'), none}, action::select_down, "select the node below"},
    key_binding{"Enter", {key{key::enter}, none, none}, action::detail,
                "the selected node's detail: wsrep figures over the last minute, sessions, monitor failures, intent",
                false, "Enter", "detail", false, key_binding::footer_in::table},
    key_binding{"Esc", {key{key::escape}, none, none}, action::back, "back from the node detail to the table", false,
                "Esc", "back", false, key_binding::footer_in::detail},
    key_binding{"Tab", {ch('\t'), none, none}, action::next_agent,
                "show the next agent's view, with several --control; the admin keys ask the agent shown", false,
                "Tab", "agent", false, key_binding::footer_in::both, true},
    key_binding{"Home/g/PgUp", {key{key::home}, ch('g'), key{key::page_up}}, action::select_first,
                "select the first node"},
    key_binding{"End/G/PgDn", {key{key::end}, ch('G'), key{key::page_down}}, action::select_last,
                "select the last node"},
    key_binding{"d", {ch('d'), none, none}, action::drain, "drain: no new connections, open ones closed at their next safe point",
                true, "d", "drain"},
    key_binding{"u/r", {ch('u'), ch('r'), none}, action::ready, "undrain / ready: back into rotation", true, "u",
                "ready"},
    key_binding{"m", {ch('m'), none, none}, action::maint,
                "maint: like drain, and what is left is closed after the grace", true, "m", "maint"},
    key_binding{"w", {ch('w'), none, none}, action::weight,
                "set the node's weight (0-1000, or empty for the configured one)", true, "w", "weight"},
    key_binding{"W", {ch('W'), none, none}, action::writer,
                "make the node the writer: every agent's writer listeners move their sessions to it", true, "W",
                "writer", true},
    key_binding{"s/>", {ch('s'), ch('>'), none}, action::sort_next,
                "sort by the next column (name, state, connections, address)", false, "s", "sort"},
    key_binding{"<", {ch('<'), none, none}, action::sort_previous, "sort by the previous column"},
    key_binding{"/", {ch('/'), none, none}, action::filter, "show only nodes whose name or address contains a text",
                false, "/", "filter"},
    key_binding{"+/=", {ch('+'), ch('='), none}, action::faster, "refresh more often"},
    key_binding{"-", {ch('-'), none, none}, action::slower, "refresh less often"},
    key_binding{"p/Space", {ch('p'), ch(' '), none}, action::pause, "pause or resume the display", false, "p",
                "pause"},
    key_binding{"?/h/F1", {ch('?'), ch('h'), key{key::f1}}, action::help, "this help", false, "?", "help"},
};

constexpr std::array<std::chrono::milliseconds, 6> intervals{250ms, 500ms, 1000ms, 2000ms, 5000ms, 10000ms};

void move_selection(view_state& v, const json& status, int delta, bool to_end = false) {
  const auto nodes = visible_nodes(v, status);
  if (nodes.empty()) return;
  auto it = std::ranges::find_if(nodes, [&](const json* n) { return n->value("address", "") == v.selected; });
  const int at = it == nodes.end() ? 0 : static_cast<int>(it - nodes.begin());
  const int last = static_cast<int>(nodes.size()) - 1;
  const int next = to_end ? (delta < 0 ? 0 : last) : std::clamp(at + delta, 0, last);
  v.selected = nodes[static_cast<std::size_t>(next)]->value("address", "");
}

void say(view_state& v, std::string text, bool error = false) {
  v.message = std::move(text);
  v.message_is_error = error;
}

void ask(view_state& v, const json& status, std::string command) {
  if (v.readonly) return say(v, "read-only: admin keys are disabled (--readonly)", true);
  const json* n = selected_node(v, status);
  if (!n) return say(v, "no node selected", true);
  v.pending_command = std::move(command);
  v.pending_node = n->value("address", "");
  v.pending_name = n->value("name", "");
  v.input.clear();
  v.mode = v.pending_command == "weight" ? screen_mode::weight_input : screen_mode::confirm;
}

/// W: asks like the other admin keys, unless there is nothing to ask (no writer listener, or the
/// node writes already).
void ask_writer(view_state& v, const json& status) {
  if (v.readonly) return say(v, "read-only: admin keys are disabled (--readonly)", true);
  if (status.is_object() && !writer_of(status)) return say(v, "the agent has no writer listener", true);
  const json* n = selected_node(v, status);
  if (n && n->value("writer", false)) return say(v, fmt::format("{} is the writer already", n->value("name", "")));
  ask(v, status, "writer");
}

reaction apply(view_state& v, action a, const json& status) {
  reaction r;
  switch (a) {
    case action::select_up: move_selection(v, status, -1); break;
    case action::select_down: move_selection(v, status, +1); break;
    case action::select_first: move_selection(v, status, -1, true); break;
    case action::select_last: move_selection(v, status, +1, true); break;
    case action::detail:
      if (selected_node(v, status))
        v.detail = true;
      else
        say(v, "no node selected", true);
      break;
    case action::back: v.detail = false; break;
    case action::next_agent:
      if (v.agents.size() > 1)
        r.next_agent = true;
      else
        say(v, "one agent: give --control once per agent to follow several", true);
      break;
    case action::drain: ask(v, status, "drain"); break;
    case action::ready: ask(v, status, "ready"); break;
    case action::maint: ask(v, status, "maint"); break;
    case action::weight: ask(v, status, "weight"); break;
    case action::writer: ask_writer(v, status); break;
    case action::sort_next: v.sort = static_cast<sort_key>((static_cast<int>(v.sort) + 1) % 4); break;
    case action::sort_previous: v.sort = static_cast<sort_key>((static_cast<int>(v.sort) + 3) % 4); break;
    case action::filter:
      v.mode = screen_mode::filter_input;
      v.input = v.filter;
      break;
    case action::faster:
    case action::slower: {
      auto it = std::ranges::lower_bound(intervals, v.interval);
      std::size_t i = it == intervals.end() ? intervals.size() - 1 : static_cast<std::size_t>(it - intervals.begin());
      if (a == action::faster && i > 0) --i;
      if (a == action::slower && i + 1 < intervals.size()) ++i;
      r.resubscribe = intervals[i] != v.interval;
      v.interval = intervals[i];
      break;
    }
    case action::pause: v.paused = !v.paused; break;
    case action::help: v.mode = screen_mode::help; break;
    case action::quit: r.quit = true; break;
  }
  return r;
}

/// Edits a one-line input; returns true when it is finished (Enter), false while typing.
bool edit_input(std::string& input, const key& k, bool digits_only) {
  static const std::size_t weight_digits = std::to_string(max_weight).size();
  const std::size_t longest = digits_only ? weight_digits : 64;
  if (k.kind == key::backspace && !input.empty()) input.pop_back();
  if (k.kind == key::character && k.ch >= 0x20 && k.ch < 0x7f && input.size() < longest &&
      (!digits_only || (k.ch >= '0' && k.ch <= '9')))
    input.push_back(static_cast<char>(k.ch));
  return k.kind == key::enter;
}
}  // namespace

std::span<const key_binding> key_table() { return bindings; }

std::optional<action> action_for(const key& k) {
  if (k.kind == key::none) return std::nullopt;
  for (const key_binding& b : bindings)
    if (std::ranges::find(b.bound, k) != b.bound.end()) return b.what;
  return std::nullopt;
}

reaction handle_key(view_state& v, const key& k, const json& status) {
  if (k.kind == key::none || k.kind == key::resize) return {};
  switch (v.mode) {
    case screen_mode::help:
      v.mode = screen_mode::normal;  // any key leaves the help screen
      return k == key{key::f10} || k == key::of('q') ? reaction{.quit = true, .resubscribe = false, .request = {}}
                                                      : reaction{};
    case screen_mode::confirm: {
      v.mode = screen_mode::normal;
      // Only an explicit yes acts; Enter, Escape and everything else mean No.
      if (!(k == key::of('y') || k == key::of('Y'))) {
        say(v, fmt::format("{} {}: cancelled", v.pending_command, v.pending_name));
        return {};
      }
      json req{{"cmd", v.pending_command}, {"node", v.pending_node}};
      if (v.pending_command == "weight") req["weight"] = v.input.empty() ? json(nullptr) : json(std::stoul(v.input));
      return reaction{.quit = false, .resubscribe = false, .request = std::move(req)};
    }
    case screen_mode::weight_input:
      if (k.kind == key::escape) {
        v.mode = screen_mode::normal;
        return {};
      }
      if (edit_input(v.input, k, true)) {
        if (!v.input.empty() && !valid_weight(std::stoll(v.input))) {
          v.mode = screen_mode::normal;
          say(v, fmt::format("a weight is {}", weight_rule), true);
          return {};
        }
        v.mode = screen_mode::confirm;
      }
      return {};
    case screen_mode::filter_input:
      if (k.kind == key::escape) {
        v.mode = screen_mode::normal;
        return {};
      }
      if (edit_input(v.input, k, false)) {
        v.filter = v.input;
        v.mode = screen_mode::normal;
      }
      return {};
    case screen_mode::normal: break;
  }
  if (auto a = action_for(k)) return apply(v, *a, status);
  return {};
}

}  // namespace galeratop
