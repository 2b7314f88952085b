#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tui/view_state.hpp"

namespace galeratop {

/// A key as the screen sees it: a character, or one of the named keys (the terminal
/// translates curses' codes, so nothing here depends on curses).
struct key {
  enum named { none, character, up, down, page_up, page_down, home, end, enter, escape, backspace, f1, f10, resize };
  named kind = none;
  char32_t ch = 0;  ///< when kind == character

  static key of(char32_t c) { return {character, c}; }
  friend bool operator==(const key&, const key&) = default;
};

/// What a key asks for (htop's Action): handlers change the view or ask for a request; they never draw.
enum class action {
  select_up, select_down, select_first, select_last, detail, back, next_agent,
  drain, ready, maint, weight, writer,
  sort_next, sort_previous, filter,
  faster, slower, pause, help, quit,
};

/// One row of the key table. The table is the one list of keys: handle_key() dispatches through
/// it, and the help screen, the footer and the man page check (tests/docs) all read it.
struct key_binding {
  std::string_view keys;  ///< as the help screen and galeratop(1) show them: "Up/k", "q/F10"
  std::array<key, 3> bound;  ///< the keys that do it; unused places are key{} (none)
  action what;
  std::string_view help;
  bool admin = false;               ///< disabled by --readonly
  std::string_view footer_keys{};   ///< how the footer shows it ("↑↓" for both select keys); empty: not in it
  std::string_view footer_word{};   ///< its word in the footer
  bool writer = false;  ///< needs a writer listener: left out of the footer, and refused, when the agent has none
  /// Which view's footer shows it (the keys work in both).
  enum class footer_in { both, table, detail } footer_view = footer_in::both;
  bool agents = false;  ///< needs several agents (--control more than once): in the footer only then
};

/// Every key of the screen, in the order the help screen and the footer list them.
std::span<const key_binding> key_table();

/// The action a key has in normal mode; nullopt when it has none.
std::optional<action> action_for(const key& k);

/// What the live loop must do after a key.
struct reaction {
  bool quit = false;
  bool resubscribe = false;                ///< the refresh interval changed
  bool next_agent = false;                 ///< show the next agent (view_state::focus is the live loop's to move)
  std::optional<nlohmann::json> request;   ///< a control request to send (confirmed admin action)
};

/// Applies a key to the view: selection, modes, confirmations (No unless y), typed input.
/// `status` is the latest status object (null when none yet). Pure.
reaction handle_key(view_state& v, const key& k, const nlohmann::json& status);

}  // namespace galeratop
