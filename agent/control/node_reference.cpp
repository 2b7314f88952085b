#include "agent/control/node_reference.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <string>
#include <vector>

namespace galeratop {

const node_record* find_node(std::span<const node_record> nodes, std::string_view ref, control_error& error) {
  std::vector<const node_record*> found;
  for (const node_record& r : nodes)
    if (r.address == ref || r.resolved.to_string() == ref || r.name() == ref) found.push_back(&r);
  if (found.size() == 1) return found.front();
  std::vector<std::string> known;
  for (const node_record& r : nodes) known.push_back(fmt::format("{} ({})", r.name(), r.address));
  if (found.empty())
    error = {"unknown_node", fmt::format("no node is called {}; known: {}", ref, fmt::join(known, ", "))};
  else
    error = {"ambiguous_node", fmt::format("{} names {} nodes; use the address: {}", ref, found.size(),
                                           fmt::join(known, ", "))};
  return nullptr;
}

}  // namespace galeratop
