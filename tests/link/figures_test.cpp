#include "ssebench/link/figures.hpp"

#include <gtest/gtest.h>

namespace ssebench::link {
namespace {

TEST(Samples, QuantilesAndMax) {
  Samples s;
  EXPECT_EQ(s.quantile_ns(0.5), 0);
  for (int i = 1; i <= 100; ++i) s.add_ns(i * 1000);
  EXPECT_EQ(s.quantile_ns(0.5), 50'000);
  EXPECT_EQ(s.quantile_ns(0.99), 99'000);
  EXPECT_EQ(s.max_ns(), 100'000);
  EXPECT_EQ(s.count(), 100u);
  s.clear();
  EXPECT_EQ(s.count(), 0u);
}

TEST(Samples, ReservoirKeepsTheDistributionPastItsCapacity) {
  Samples s;
  const std::uint64_t n = Samples::capacity * 2;
  for (std::uint64_t i = 0; i < n; ++i) s.add_ns(static_cast<std::int64_t>(i % 1000));
  EXPECT_EQ(s.count(), n);
  EXPECT_NEAR(s.quantile_ns(0.5), 500, 10);
  EXPECT_NEAR(s.quantile_ns(0.99), 990, 10);
}

TEST(Figures, JsonCarriesEveryFieldWithUnits) {
  Figures f;
  f.profile = "3g";
  f.down.packets = 10;
  f.up.packets = 10;
  f.cpu_s = 0.001;
  f.behind_us = 500;
  f.lateness.add_ns(800'000);
  const std::string j = f.json();
  for (const char* field :
       {"\"profile\":\"3g\"", "\"down_packets\":10", "\"up_bytes\":0", "\"down_drops_loss\":0",
        "\"up_drops_queue\":0", "\"down_queue_delay_ms_p50\":", "\"up_queue_delay_ms_p99\":",
        "\"cpu_us_per_packet\":50.000", "\"lateness_us_p99\":800.0", "\"lateness_us_max\":800.0",
        "\"link_behind\":1"})
    EXPECT_NE(j.find(field), std::string::npos) << field << " in " << j;
  EXPECT_EQ(j.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace ssebench::link
