#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "balancer/core/clock.hpp"

namespace galeratop {

/// Whether this process is short of descriptors, and the two log lines that say so: one when a
/// shortage begins and one when it has ended, however many accepts or connects it fails in
/// between (at the limit, every session that ends lets one more in: one success is no end).
/// Pure: `now` is given.
class resource_shortage {
 public:
  /// An accept or a node connect failed for want of descriptors; the warning to log when a shortage begins.
  std::optional<std::string> hit(std::string_view where, std::string_view error, std::string_view context,
                                 mono_clock::time_point now);
  /// An accept and connect succeeded; the line to log when that ends a shortage: a second without a failure.
  std::optional<std::string> cleared(mono_clock::time_point now);

 private:
  std::optional<mono_clock::time_point> since_;  // nullopt: no shortage
  mono_clock::time_point last_hit_{};
  std::uint64_t hits_ = 0;
};

}  // namespace galeratop
