#include "tui/event_text.hpp"

#include <fmt/format.h>
#include <utility>

namespace galeratop {

std::string event_line(const nlohmann::json& e, bool full_time) {
  std::string time = e.value("time", "");
  if (!full_time)
    if (std::string day_time = time_of_day(time); !day_time.empty()) time = std::move(day_time);
  const std::string node = e.value("node", "");
  const std::string who = e.value("who", "");
  return fmt::format("{}  {:<11} {}{}{}{}", time, e.value("kind", ""), node, node.empty() ? "" : "  ",
                     e.value("message", ""), who.empty() ? "" : fmt::format(" (by {})", who));
}

std::string time_of_day(std::string_view iso) {
  // The time of day is the part between the T and the dot.
  return iso.size() >= 19 ? std::string(iso.substr(11, 8)) : std::string{};
}

}  // namespace galeratop
