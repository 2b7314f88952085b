#include "balancer/resource_shortage.hpp"

#include <fmt/format.h>

namespace galeratop {

std::optional<std::string> resource_shortage::hit(std::string_view where, std::string_view error,
                                                  std::string_view context, mono_clock::time_point now) {
  ++hits_;
  last_hit_ = now;
  if (since_) return std::nullopt;
  since_ = now;
  return fmt::format("{} failed: {}; clients wait in the listen queue or get ERR 1040 until descriptors free up ({})",
                     where, error, context);
}

std::optional<std::string> resource_shortage::cleared(mono_clock::time_point now) {
  if (!since_ || now - last_hit_ < std::chrono::seconds(1)) return std::nullopt;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(last_hit_ - *since_);
  const std::string line = fmt::format("descriptors available again; the shortage lasted {} ms ({} accepts or "
                                       "connects failed)", ms.count(), hits_);
  since_.reset();
  hits_ = 0;
  return line;
}

}  // namespace galeratop
