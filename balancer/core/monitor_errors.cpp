#include "balancer/core/monitor_errors.hpp"

namespace galeratop {

void monitor_errors::add(std::string_view error, std::chrono::system_clock::time_point at) {
  if (!entries_.empty() && entries_.back().error == error) {
    entries_.back().last = at;
    ++entries_.back().count;
    return;
  }
  entries_.push_back({.error = std::string(error), .first = at, .last = at, .count = 1});
  if (entries_.size() > kept) entries_.pop_front();
}

}  // namespace galeratop
