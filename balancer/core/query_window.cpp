#include "balancer/core/query_window.hpp"

#include <algorithm>

namespace galeratop {

void query_window::add(mono_clock::time_point now, std::uint64_t queries_total, const query_buckets& cumulative) {
  if (!samples_.empty()) {
    const sample& last = samples_.back();
    // Deltas across a restart would be garbage (or wrap around as unsigned): forget what came before.
    const bool went_back = now < last.at || queries_total < last.queries ||
                           !std::ranges::equal(cumulative, last.cumulative, std::ranges::greater_equal{});
    if (went_back) samples_.clear();
  }
  const sample fresh{now, queries_total, cumulative};
  // The last sample stands in for every publish since its predecessor until it is `spacing` past
  // it: only then does it stay and a new one follow.
  if (samples_.size() >= 2 && samples_.back().at - samples_[samples_.size() - 2].at < spacing)
    samples_.back() = fresh;
  else
    samples_.push_back(fresh);
  while (samples_.size() >= 2 && now - samples_[1].at >= span) samples_.pop_front();
}

double query_window::queries_per_second() const {
  if (samples_.size() < 2) return 0;
  const double seconds = std::chrono::duration<double>(covered()).count();
  return seconds > 0 ? static_cast<double>(samples_.back().queries - samples_.front().queries) / seconds : 0;
}

std::optional<double> query_window::quantile(double q) const {
  if (samples_.size() < 2) return std::nullopt;
  query_buckets in_window{};
  for (std::size_t i = 0; i < in_window.size(); ++i)
    in_window[i] = samples_.back().cumulative[i] - samples_.front().cumulative[i];
  const std::uint64_t count = in_window.back();
  if (count == 0) return std::nullopt;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(count);
  // The first finite bucket holding the rank; none: the +Inf one, which answers its lower bound.
  std::size_t b = 0;
  while (b < query_latency_bounds.size() && static_cast<double>(in_window[b]) < rank) ++b;
  if (b == query_latency_bounds.size()) return query_latency_bounds.back();
  const double lower = b == 0 ? 0.0 : query_latency_bounds[b - 1];
  const double before = b == 0 ? 0.0 : static_cast<double>(in_window[b - 1]);
  const double in_bucket = static_cast<double>(in_window[b]) - before;
  if (in_bucket == 0) return lower;  // q = 0 with nothing below: the bucket's start
  return lower + (query_latency_bounds[b] - lower) * (rank - before) / in_bucket;
}

mono_clock::duration query_window::covered() const {
  return samples_.size() < 2 ? mono_clock::duration::zero() : samples_.back().at - samples_.front().at;
}

}  // namespace galeratop
