#include "balancer/core/poll_histogram.hpp"

namespace galeratop {

void poll_histogram::record(double seconds) {
  ++count;
  sum += seconds;
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (seconds <= bounds[i]) ++cumulative[i];
}

}  // namespace galeratop
