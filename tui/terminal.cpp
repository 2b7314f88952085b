#include "tui/terminal.hpp"

#include <curses.h>
#include <langinfo.h>

#include <clocale>
#include <cstring>
#include <stdexcept>

namespace galeratop {
namespace {
enum pair : short { good_pair = 1, warn_pair, bad_pair, title_pair, key_pair };
}

terminal::terminal(bool colour) {
  std::setlocale(LC_ALL, "");
  utf8_ = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  ESCDELAY = 25;  // Escape cancels at once instead of waiting a second for a sequence
  if (!initscr()) throw std::runtime_error("cannot initialise the terminal (is TERM set?)");
  cbreak();  // keys at once, but Ctrl-C still sends SIGINT
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  curs_set(0);
  colour_ = colour && has_colors();
  if (colour_) {
    start_color();
    use_default_colors();
    init_pair(good_pair, COLOR_GREEN, -1);
    init_pair(warn_pair, COLOR_YELLOW, -1);
    init_pair(bad_pair, COLOR_RED, -1);
    init_pair(title_pair, COLOR_BLACK, COLOR_CYAN);
    init_pair(key_pair, COLOR_CYAN, -1);
  }
}

terminal::~terminal() {
  curs_set(1);
  endwin();
}

int terminal::width() const { return COLS; }
int terminal::height() const { return LINES; }

int terminal::attribute(attr a) const {
  if (colour_) {
    switch (a) {
      case attr::good: return COLOR_PAIR(good_pair);
      case attr::warn: return COLOR_PAIR(warn_pair) | A_BOLD;
      case attr::bad: return COLOR_PAIR(bad_pair) | A_BOLD;
      case attr::title: return COLOR_PAIR(title_pair);
      case attr::key: return COLOR_PAIR(key_pair) | A_BOLD;
      default: break;
    }
  } else {
    // Without colour the states still stand apart: trouble is bold, the title reversed.
    switch (a) {
      case attr::warn: return A_BOLD;
      case attr::bad: return A_BOLD | A_UNDERLINE;
      case attr::title: return A_REVERSE;
      case attr::key: return A_BOLD;
      default: break;
    }
  }
  switch (a) {
    case attr::header: return A_BOLD;
    case attr::selected: return A_REVERSE;
    case attr::dim: return A_DIM;
    default: return A_NORMAL;
  }
}

void terminal::draw(const std::vector<screen_line>& lines) {
  erase();
  for (std::size_t y = 0; y < lines.size() && static_cast<int>(y) < LINES; ++y) {
    move(static_cast<int>(y), 0);
    for (const span& s : lines[y]) {
      attrset(attribute(s.attr));
      addstr(s.text.c_str());  // an ERR at the bottom-right corner is expected and harmless
    }
  }
  attrset(A_NORMAL);
  wnoutrefresh(stdscr);
  doupdate();
}

key terminal::read_key(std::chrono::milliseconds wait) {
  timeout(static_cast<int>(wait.count()));
  wint_t ch = 0;
  const int r = get_wch(&ch);
  if (r == ERR) return {};
  if (r == KEY_CODE_YES) {
    switch (ch) {
      case KEY_UP: return {key::up};
      case KEY_DOWN: return {key::down};
      case KEY_PPAGE: return {key::page_up};
      case KEY_NPAGE: return {key::page_down};
      case KEY_HOME: return {key::home};
      case KEY_END: return {key::end};
      case KEY_ENTER: return {key::enter};
      case KEY_BACKSPACE: return {key::backspace};
      case KEY_F(1): return {key::f1};
      case KEY_F(10): return {key::f10};
      case KEY_RESIZE: return {key::resize};
      default: return {};
    }
  }
  switch (ch) {
    case '\r': case '\n': return {key::enter};
    case 27: return {key::escape};
    case 127: case 8: return {key::backspace};
    default: return key::of(static_cast<char32_t>(ch));
  }
}

}  // namespace galeratop
