#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "view_state.hpp"

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
  select_up, select_down, select_first, select_last,
  drain, ready, maint, weight,
  sort_next, sort_previous, filter,
  faster, slower, pause, help, quit,
};

/// One row of the key table: the keys, what they do, and the words the help screen shows.
struct key_binding {
  std::string_view keys;  ///< as shown: "d", "Up/k", "q/F10"
  action what;
  std::string_view help;
  bool admin = false;  ///< disabled by --readonly
};

/// Every key of the screen, in the order the help screen lists them.
std::span<const key_binding> key_table();

/// The action a key has in normal mode; nullopt when it has none.
std::optional<action> action_for(const key& k);

/// What the live loop must do after a key.
struct reaction {
  bool quit = false;
  bool resubscribe = false;                ///< the refresh interval changed
  std::optional<nlohmann::json> request;   ///< a control request to send (confirmed admin action)
};

/// Applies a key to the view: selection, modes, confirmations (No unless y), typed input.
/// `status` is the latest status object (null when none yet). Pure.
reaction handle_key(view_state& v, const key& k, const nlohmann::json& status);

}  // namespace galeratop
