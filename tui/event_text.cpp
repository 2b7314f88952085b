#include "tui/event_text.hpp"

#include <fmt/format.h>

namespace galeratop {

std::string event_line(const nlohmann::json& e, bool full_time) {
  std::string time = e.value("time", "");
  // "2026-12-02T09:30:01.123Z": the time of day is the part between the T and the dot.
  if (!full_time && time.size() >= 19) time = time.substr(11, 8);
  const std::string node = e.value("node", "");
  const std::string who = e.value("who", "");
  return fmt::format("{}  {:<11} {}{}{}{}", time, e.value("kind", ""), node, node.empty() ? "" : "  ",
                     e.value("message", ""), who.empty() ? "" : fmt::format(" (by {})", who));
}

}  // namespace galeratop
