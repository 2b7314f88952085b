#include "balancer/core/node_record.hpp"

#include <fmt/format.h>

namespace galeratop {

std::string resolved_address::to_string() const { return fmt::format("{}:{}", ip, port); }

const std::string& node_record::name() const {
  if (!configured_name.empty()) return configured_name;
  if (!monitor.last.node_name.empty()) return monitor.last.node_name;
  return address;
}

}  // namespace galeratop
