#include "balancer/core/node_record.hpp"

#include <fmt/format.h>

namespace galeratop {

std::string resolved_address::to_string() const { return fmt::format("{}:{}", ip, port); }

const std::string& node_record::name() const {
  if (!configured_name.empty()) return configured_name;
  if (!monitor.last.node_name.empty()) return monitor.last.node_name;
  return address;
}

query_histogram node_record::query_latency() const {
  // The relay counts each bucket apart; summing them here keeps the buckets cumulative whatever
  // it counts between two loads.
  const session_counters& live = *traffic.live;
  query_histogram h;
  std::uint64_t timed = 0;
  for (std::size_t i = 0; i < live.latency.size(); ++i)
    h.cumulative[i] = timed += live.latency[i].load(std::memory_order_relaxed);
  h.sum = static_cast<double>(live.latency_sum_us.load(std::memory_order_relaxed)) / 1e6;
  return h;
}

}  // namespace galeratop
