#include <catch2/catch.hpp>

#include <initializer_list>
#include <utility>

#include "balancer/core/query_window.hpp"

using namespace galeratop;
using namespace std::chrono_literals;

namespace {
const mono_clock::time_point t0 = mono_clock::time_point{} + 1h;

/// Cumulative buckets from (bucket index, queries in it) pairs; index 12 is +Inf.
query_buckets buckets(std::initializer_list<std::pair<std::size_t, std::uint64_t>> per_bucket) {
  query_buckets b{};
  for (auto [index, count] : per_bucket)
    for (std::size_t i = index; i < b.size(); ++i) b[i] += count;
  return b;
}

/// Adds a sample whose query count is the number of queries timed.
void add(query_window& w, mono_clock::time_point at, const query_buckets& b) { w.add(at, b.back(), b); }
}  // namespace

TEST_CASE("an empty window or one with a single sample has no rate and no p99") {
  query_window w;
  CHECK(w.queries_per_second() == 0);
  CHECK_FALSE(w.p99());
  CHECK(w.covered() == 0s);
  add(w, t0, buckets({{0, 500}}));
  CHECK(w.size() == 1);
  CHECK(w.queries_per_second() == 0);
  CHECK_FALSE(w.p99());  // 500 queries since the start, none known to be recent
  CHECK(w.covered() == 0s);
}

TEST_CASE("the rate is the queries between the first and last samples over the time between them") {
  query_window w;
  w.add(t0, 1000, {});
  w.add(t0 + 500ms, 1100, {});
  CHECK(w.queries_per_second() == Approx(200));
  w.add(t0 + 2s, 1400, {});
  CHECK(w.queries_per_second() == Approx(200));  // 400 queries in 2 s
  w.add(t0 + 4s, 1400, {});
  CHECK(w.queries_per_second() == Approx(100));  // idle for the last 2 s of 4
}

TEST_CASE("the query rate counts queries, not the timed ones the histogram holds") {
  query_window w;
  w.add(t0, 0, {});
  w.add(t0 + 1s, 30, buckets({{1, 20}}));  // 10 without a response to time
  CHECK(w.queries_per_second() == Approx(30));
  CHECK(w.p99() == Approx(0.0005 + 0.0005 * 19.8 / 20));
}

TEST_CASE("a sample as old as the span stays as the window's first, older ones leave") {
  query_window w;
  for (int i = 0; i <= 40; ++i) w.add(t0 + i * 250ms, static_cast<std::uint64_t>(i) * 10, {});  // 40 queries/s
  CHECK(w.covered() == query_window::span);
  CHECK(w.size() == 21);  // 5 s of 250 ms steps, both ends included
  CHECK(w.queries_per_second() == Approx(40));
}

TEST_CASE("between publishes the window covers the span and at most one step more") {
  query_window w;
  for (int i = 0; i <= 12; ++i) w.add(t0 + i * 700ms, 0, {});  // the last sample is at 8.4 s
  // 3.5 s is 4.9 s old: too young to start the window; 2.8 s is 5.6 s old and does.
  CHECK(w.covered() == 5600ms);
}

TEST_CASE("after a burst, the rate falls back once the burst is older than the span") {
  query_window w;
  w.add(t0, 0, {});
  w.add(t0 + 1s, 5000, {});  // a burst in the first second
  for (int i = 2; i <= 5; ++i) w.add(t0 + i * 1s, 5000, {});
  CHECK(w.queries_per_second() == Approx(1000));  // 5000 in 5 s
  w.add(t0 + 6s, 5000, {});
  CHECK(w.queries_per_second() == Approx(0));  // from 1 s to 6 s: nothing
}

TEST_CASE("samples closer than the spacing replace one another and keep the window bounded") {
  query_window w;
  w.add(t0, 0, {});
  w.add(t0 + 50ms, 5, {});
  w.add(t0 + 60ms, 6, {});  // 60 ms after the first: replaces the one at 50 ms
  CHECK(w.size() == 2);
  CHECK(w.covered() == 60ms);
  CHECK(w.queries_per_second() == Approx(100));
  w.add(t0 + 100ms, 10, {});  // the last one was still too close to the first: replaced again
  CHECK(w.size() == 2);
  w.add(t0 + 150ms, 15, {});  // the one at 100 ms stays
  CHECK(w.size() == 3);
  CHECK(w.covered() == 150ms);
  // A publish every millisecond for 20 s, at 1000 queries/s.
  for (int i = 151; i <= 20'000; ++i) w.add(t0 + i * 1ms, static_cast<std::uint64_t>(i), {});
  CHECK(w.size() <= static_cast<std::size_t>(query_window::span / query_window::spacing) + 2);
  CHECK(w.covered() >= query_window::span);
  CHECK(w.covered() <= query_window::span + query_window::spacing);
  CHECK(w.queries_per_second() == Approx(1000));
}

TEST_CASE("without a query in the window the p99 is absent, even when queries came before it") {
  query_window w;
  const query_buckets before = buckets({{3, 100}});
  add(w, t0, before);
  add(w, t0 + 1s, before);
  CHECK_FALSE(w.p99());
  CHECK(w.queries_per_second() == 0);
  add(w, t0 + 2s, buckets({{3, 101}}));
  REQUIRE(w.p99());
  CHECK(*w.p99() == Approx(0.002 + 0.003 * 0.99));  // one query, in (2 ms, 5 ms]
  for (int i = 3; i <= 8; ++i) add(w, t0 + i * 1s, buckets({{3, 101}}));
  CHECK_FALSE(w.p99());  // that query is older than the span now
}

TEST_CASE("the p99 interpolates inside its bucket as histogram_quantile does") {
  query_window w;
  add(w, t0, {});
  add(w, t0 + 1s, buckets({{0, 50}, {2, 50}}));  // 50 under 0.5 ms, 50 in (1 ms, 2 ms]
  // The 99th of 100 is the 49th of 50 in (1 ms, 2 ms].
  CHECK(*w.p99() == Approx(0.001 + 0.001 * 49.0 / 50.0));
  CHECK(*w.quantile(0.5) == Approx(0.0005));  // the 50th is the last of the first bucket
  CHECK(*w.quantile(0.25) == Approx(0.00025));  // the first bucket starts at 0
  CHECK(*w.quantile(0.75) == Approx(0.0015));
}

TEST_CASE("a rank on a bucket's count is that bucket's upper bound") {
  query_window w;
  add(w, t0, {});
  add(w, t0 + 1s, buckets({{1, 99}, {3, 1}}));  // 99 in (0.5 ms, 1 ms], one in (2 ms, 5 ms]
  CHECK(*w.p99() == Approx(0.001));
  CHECK(*w.quantile(0.995) == Approx(0.002 + 0.003 * 0.5));  // empty buckets between are skipped
}

TEST_CASE("a p99 in the +Inf bucket is the highest finite bound") {
  query_window w;
  add(w, t0, {});
  add(w, t0 + 1s, buckets({{12, 10}}));  // every query took more than 5 s
  CHECK(*w.p99() == query_latency_bounds.back());
  query_window mixed;
  add(mixed, t0, {});
  add(mixed, t0 + 1s, buckets({{0, 98}, {12, 2}}));
  CHECK(*mixed.p99() == query_latency_bounds.back());
  CHECK(*mixed.quantile(0.98) == Approx(0.0005));
}

TEST_CASE("every finite bucket can hold the p99") {
  for (std::size_t b = 0; b < query_latency_bounds.size(); ++b) {
    INFO("bucket " << b);
    query_window w;
    add(w, t0, {});
    add(w, t0 + 1s, buckets({{b, 100}}));
    const double lower = b == 0 ? 0 : query_latency_bounds[b - 1];
    CHECK(*w.p99() == Approx(lower + (query_latency_bounds[b] - lower) * 0.99));
  }
}

TEST_CASE("the p99 counts only the queries timed within the window") {
  query_window w;
  const query_buckets slow = buckets({{11, 1000}});  // 1000 queries in (1 s, 5 s] before the window
  add(w, t0, slow);
  add(w, t0 + 1s, slow);
  CHECK_FALSE(w.p99());
  query_buckets now = slow;
  for (int i = 2; i <= 7; ++i) {
    for (std::size_t k = 0; k < now.size(); ++k) now[k] += 100;  // 100 more, all under 0.5 ms
    add(w, t0 + i * 1s, now);
  }
  CHECK(*w.p99() == Approx(0.0005 * 0.99));
  CHECK(w.queries_per_second() == Approx(100));
}

TEST_CASE("quantiles outside 0 to 1 are clamped") {
  query_window w;
  add(w, t0, {});
  add(w, t0 + 1s, buckets({{2, 10}}));  // all in (1 ms, 2 ms]
  CHECK(*w.quantile(1.0) == Approx(0.002));
  CHECK(*w.quantile(7.0) == Approx(0.002));
  CHECK(*w.quantile(0.0) == 0);  // the first bucket is empty: its start
  CHECK(*w.quantile(-1.0) == 0);
}

TEST_CASE("a query count that goes back starts the window over") {
  query_window w;
  w.add(t0, 1000, {});
  w.add(t0 + 1s, 2000, {});
  w.add(t0 + 2s, 10, {});  // a record that started over
  CHECK(w.size() == 1);
  CHECK(w.queries_per_second() == 0);
  w.add(t0 + 3s, 60, {});
  CHECK(w.queries_per_second() == Approx(50));
}

TEST_CASE("a latency bucket that goes back starts the window over") {
  query_window w;
  add(w, t0, buckets({{0, 10}, {4, 90}}));
  add(w, t0 + 1s, buckets({{0, 10}, {4, 190}}));
  add(w, t0 + 2s, buckets({{4, 200}}));  // more queries, but fewer under 0.5 ms than before
  CHECK(w.size() == 1);
  CHECK_FALSE(w.p99());
  add(w, t0 + 3s, buckets({{0, 100}, {4, 200}}));
  CHECK(*w.p99() == Approx(0.0005 * 0.99));
}

TEST_CASE("a clock that goes back starts the window over") {
  query_window w;
  w.add(t0 + 10s, 100, {});
  w.add(t0 + 11s, 200, {});
  w.add(t0 + 5s, 300, {});
  CHECK(w.size() == 1);
  CHECK(w.queries_per_second() == 0);
}

TEST_CASE("two samples at the same instant give no rate") {
  query_window w;
  w.add(t0, 0, {});
  w.add(t0, 10, buckets({{0, 10}}));
  CHECK(w.covered() == 0s);
  CHECK(w.queries_per_second() == 0);
  CHECK(*w.p99() == Approx(0.0005 * 0.99));  // the queries are known to be recent all the same
}
