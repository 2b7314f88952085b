#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "balancer/core/clock.hpp"

namespace galeratop {

/// Upper bounds, in seconds, of the buckets of a node's query latency histogram (+Inf follows).
inline constexpr std::array<double, 12> query_latency_bounds{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                                            0.05,   0.1,   0.25,  0.5,   1.0,  5.0};

/// Queries by latency, cumulative the way Prometheus counts buckets: [i] is the queries that took at
/// most query_latency_bounds[i]; the last one (+Inf) is every query timed.
using query_buckets = std::array<std::uint64_t, query_latency_bounds.size() + 1>;

/// A node's query latencies as one Prometheus histogram.
struct query_histogram {
  query_buckets cumulative{};  ///< never decreasing from one bucket to the next
  double sum = 0;              ///< seconds

  /// Every query timed (the +Inf bucket).
  std::uint64_t count() const { return cumulative.back(); }
};

/// The last few seconds of one node's query counters, sampled on the agent's tick (it lives in the
/// node's record): the counters only say what happened since the start, `status` and the screen
/// show what is happening now (a recent rate and p99). Pure: the caller passes `now`.
class query_window {
 public:
  /// How far back the figures look: steady at a 250 ms tick, and a slowdown shows within seconds.
  static constexpr std::chrono::seconds span{5};
  /// A sample closer than this to the one before replaces the last one, so that however often it is
  /// sampled, the window stays bounded.
  static constexpr std::chrono::milliseconds spacing{100};

  /// Notes the counters as they are at `now`. Counters that went back (or a clock that did) belong
  /// to a record that started over: the window starts over with them.
  void add(mono_clock::time_point now, std::uint64_t queries_total, const query_buckets& cumulative);

  /// Queries per second between the window's first and last samples; 0 until two samples apart in time.
  double queries_per_second() const;

  /// The q-quantile (0 to 1) of the latencies of the queries timed within the window, seconds;
  /// empty when none was. Interpolated linearly inside its bucket, as Prometheus'
  /// histogram_quantile() does, so that the screen and a dashboard agree; a quantile that falls
  /// in the +Inf bucket is the highest finite bound (query_latency_bounds.back()), as there.
  std::optional<double> quantile(double q) const;

  /// quantile(0.99): what `status` and the screen show.
  std::optional<double> p99() const { return quantile(0.99); }

  /// The time between the first and the last sample: `span`, give or take one publish, once full.
  mono_clock::duration covered() const;

  /// Samples held: at most span / spacing + 2.
  std::size_t size() const { return samples_.size(); }

 private:
  struct sample {
    mono_clock::time_point at;
    std::uint64_t queries = 0;
    query_buckets cumulative{};
  };
  // Oldest first. The first is the newest sample at least `span` old, once there is one, so that
  // the window covers the whole span rather than a little less.
  std::deque<sample> samples_;
};

}  // namespace galeratop
