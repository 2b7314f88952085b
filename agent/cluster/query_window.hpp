#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "agent/cluster/snapshot.hpp"
#include "balancer/core/clock.hpp"

namespace galeratop {

/// The last few seconds of one node's query counters, sampled at each publish: the counters only
/// say what happened since the start, `status` and the screen show what is happening now (a
/// recent rate and p99). Pure: the caller passes `now`.
class query_window {
 public:
  /// How far back the figures look: steady at a 250 ms publish, and a slowdown shows within seconds.
  static constexpr std::chrono::seconds span{5};
  /// A sample closer than this to the one before replaces the last one, so that however often the
  /// agent publishes (every observation that changes a state does), the window stays bounded.
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
