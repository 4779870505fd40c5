#include "ssebench/server/stats.hpp"

#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace ssebench::server {
namespace {

TEST(Histogram, BucketsTileTheRangeWithoutGaps) {
  EXPECT_EQ(Histogram::bucket_low(0), 0u);
  for (std::size_t b = 0; b + 1 < Histogram::bucket_count; ++b) {
    ASSERT_EQ(Histogram::bucket_high(b) + 1, Histogram::bucket_low(b + 1)) << b;
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_low(b)), b);
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_high(b)), b);
  }
  EXPECT_EQ(Histogram::bucket_of(std::uint64_t{1} << 50), Histogram::bucket_count - 1);
}

TEST(Histogram, BucketWidthIsAtMostTwoPercentOfItsValues) {
  for (std::size_t b = Histogram::sub_count; b + 1 < Histogram::bucket_count; ++b) {
    const double lo = static_cast<double>(Histogram::bucket_low(b));
    const double width = static_cast<double>(Histogram::bucket_high(b)) - lo + 1;
    ASSERT_LE(width / lo, 0.02) << b;
  }
}

TEST(Histogram, QuantilesWithinTwoPercentOfExact) {
  Histogram h;
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(10.0, 1.5);  // ~22 µs median, long tail
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 20000; ++i) {
    values.push_back(static_cast<std::uint64_t>(dist(rng)));
    h.record(values.back());
  }
  std::sort(values.begin(), values.end());
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.max(), values.back());
  for (double q : {0.5, 0.9, 0.99}) {
    const auto exact = static_cast<double>(
        values[static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size()))) - 1]);
    EXPECT_NEAR(static_cast<double>(h.quantile(q)), exact, exact * 0.02) << q;
  }
}

TEST(Histogram, SmallValuesAreExactAndResetEmpties) {
  Histogram h;
  for (std::uint64_t v : {3, 5, 7}) h.record(v);
  EXPECT_EQ(h.quantile(0.5), 5u);
  EXPECT_EQ(h.quantile(1.0), 7u);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(Histogram, ConcurrentRecordsAreAllCounted) {
  Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (std::uint64_t i = 0; i < 10000; ++i) h.record(i * static_cast<std::uint64_t>(t + 1));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.max(), 9999u * 4);
}

TEST(Stats, JsonHasEveryFieldAndResetZeroesCounters) {
  Stats s;
  s.at(Endpoint::chat_completions).requests = 2;
  s.at(Endpoint::chat_completions).bytes_out = 300;
  s.events_written = 5;
  s.lateness.record(12'000);
  s.connections_open = 1;
  const auto v = boost::json::parse(stats_json(s, {3, 2}));
  const auto& o = v.as_object();
  EXPECT_GT(o.at("uptime_s").to_number<double>(), -1.0);
  EXPECT_TRUE(o.at("cpu").as_object().contains("user_us"));
  EXPECT_TRUE(o.at("cpu").as_object().contains("sys_us"));
  EXPECT_GT(o.at("rss_bytes").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(o.at("connections_open").to_number<int>(), 1);
  EXPECT_EQ(o.at("jobs_held").to_number<int>(), 3);
  EXPECT_EQ(o.at("jobs_active").to_number<int>(), 2);
  EXPECT_EQ(o.at("events_written").to_number<int>(), 5);
  s.timeouts_write = 4;
  const auto& timeouts = o.at("timeouts").as_object();
  for (const char* name : {"idle", "request", "write", "lifetime"})
    EXPECT_TRUE(timeouts.contains(name)) << name;
  // fds_open only when asked for: listing /proc/self/fd is not free.
  EXPECT_FALSE(o.contains("fds_open"));
  const auto with_fds = boost::json::parse(stats_json(s, {3, 2}, true)).as_object();
  EXPECT_GE(with_fds.at("fds_open").to_number<int>(), 3);  // stdin, stdout, stderr at least
  EXPECT_EQ(with_fds.at("timeouts").at("write").to_number<int>(), 4);
  const auto& late = o.at("lateness_us").as_object();
  EXPECT_EQ(late.at("count").to_number<int>(), 1);
  EXPECT_NEAR(late.at("p50").to_number<double>(), 12.0, 0.2);
  EXPECT_NEAR(late.at("max").to_number<double>(), 12.0, 0.001);
  const auto& eps = o.at("endpoints").as_object();
  for (const char* name : {"chat_completions", "chat_completions_get", "responses", "responses_get",
                           "models", "mock", "other"})
    EXPECT_TRUE(eps.contains(name)) << name;
  EXPECT_EQ(eps.at("chat_completions").at("bytes_out").to_number<int>(), 300);

  s.reset();
  EXPECT_EQ(s.events_written, 0u);
  EXPECT_EQ(s.at(Endpoint::chat_completions).requests, 0u);
  EXPECT_EQ(s.lateness.count(), 0u);
  EXPECT_EQ(s.connections_open, 1);  // a gauge, not a counter
}

}  // namespace
}  // namespace ssebench::server
