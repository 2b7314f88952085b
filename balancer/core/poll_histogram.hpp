#pragma once

#include <array>
#include <cstdint>

namespace galeratop {

/// Durations of monitor checks, bucketed the way Prometheus histograms are.
struct poll_histogram {
  /// Upper bounds in seconds; a check on loopback takes ~0.3 ms, a frozen node one whole timeout.
  static constexpr std::array<double, 9> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5};
  std::array<std::uint64_t, bounds.size()> cumulative{};  ///< checks that took at most bounds[i]
  std::uint64_t count = 0;  ///< every check, also those above the last bound
  double sum = 0;           ///< seconds

  /// Records one check's duration.
  void record(double seconds);
};

}  // namespace galeratop
