#pragma once

#include <chrono>
#include <vector>

#include "tui/key_map.hpp"
#include "tui/screen_layout.hpp"

namespace galeratop {

/// The terminal, through ncursesw: the only code that includes curses. Construction takes
/// the screen over; destruction (also during an exception) gives it back as it was.
class terminal {
 public:
  /// `colour` false draws with bold and reverse only (NO_COLOR, or a terminal without colours).
  explicit terminal(bool colour);
  ~terminal();
  terminal(const terminal&) = delete;
  terminal& operator=(const terminal&) = delete;

  /// Columns and lines now.
  int width() const;
  int height() const;
  /// Whether the locale is UTF-8 (else bars and sparklines are drawn in ASCII).
  bool utf8() const { return utf8_; }

  /// Replaces the screen's content; curses sends only what changed, so nothing flickers.
  void draw(const std::vector<screen_line>& lines);
  /// The next key, or key::none after `wait`.
  key read_key(std::chrono::milliseconds wait);

 private:
  int attribute(attr a) const;
  bool colour_ = false;
  bool utf8_ = false;
};

}  // namespace galeratop
