#include "balancer/placement_rules.hpp"

#include <fmt/format.h>

namespace galeratop {

admission admit(bool can_place, std::chrono::milliseconds hold, std::size_t held, std::size_t hold_limit) {
  if (can_place) return admission::place;
  if (hold.count() == 0) return admission::refuse;
  if (held >= hold_limit) return admission::full;
  return admission::hold;
}

after_failure placement_attempts::failed(node_id id, std::string_view name, const connect_failure& f, bool closed) {
  // Closed meanwhile: no node is to blame. Short of descriptors: neither is the node.
  if (closed) return after_failure::client_closed;
  if (f.ours) return after_failure::out_of_descriptors;
  tried_.push_back(id);
  failures_ += fmt::format("{}{}{}: {}", failures_.empty() ? "" : "; ", writer_ ? "the writer " : "", name, f.why);
  return after_failure::next_node;
}

std::string placement_attempts::error(std::string_view unavailable) const {
  if (failures_.empty()) return std::string(unavailable);
  return fmt::format("no Galera node could be reached ({})", failures_);
}

std::string hold_refusal(bool writer_listener, std::string_view unavailable, std::string_view writer_why, bool full,
                         std::size_t hold_limit) {
  std::string why = !writer_listener     ? std::string(unavailable)
                    : writer_why.empty() ? std::string("no writer")
                                         : std::string(writer_why);
  if (full) why += fmt::format(" and {} client(s) are held already (hold_limit)", hold_limit);
  return why;
}

}  // namespace galeratop
