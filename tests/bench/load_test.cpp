// The splitting and merging of load.hpp; the runs themselves are in clients_test (real server).
#include "ssebench/bench/load.hpp"

#include <gtest/gtest.h>

namespace ssebench::bench {
namespace {

TEST(Load, SharesSplitATotalAsStreamKModNDoes) {
  for (std::size_t total : {0u, 1u, 7u, 100u})
    for (std::size_t n : {1u, 2u, 3u, 8u}) {
      std::size_t sum = 0;
      for (std::size_t i = 0; i < n; ++i) {
        std::size_t mine = 0;
        for (std::size_t k = i; k < total; k += n) ++mine;
        EXPECT_EQ(share_of(total, i, n), mine) << total << " over " << n;
        sum += share_of(total, i, n);
      }
      EXPECT_EQ(sum, total);
    }
}

TEST(Load, MergedRoundsSumTheirCountersAndSpanTheirStreams) {
  const TimePoint t{};
  std::vector<RoundResult> parts(2);
  parts[0].client_cpu_us = 10;
  parts[0].tcp.bytes_in = 100;
  parts[0].streams.resize(2);
  parts[0].streams[0].t0 = t + std::chrono::seconds(1);
  parts[0].streams[0].end = t + std::chrono::seconds(2);
  parts[1].client_cpu_us = 5;
  parts[1].tcp.bytes_in = 50;
  parts[1].streams.resize(1);
  parts[1].streams[0].t0 = t + std::chrono::seconds(1);
  parts[1].streams[0].end = t + std::chrono::seconds(4);
  parts[0].streams[1].t0 = t;
  const RoundResult r = merge_rounds(std::move(parts));
  EXPECT_EQ(r.streams.size(), 3u);
  EXPECT_DOUBLE_EQ(r.client_cpu_us, 15);
  EXPECT_EQ(r.tcp.bytes_in, 150u);
  EXPECT_DOUBLE_EQ(r.wall_s, 4);
}

TEST(Load, AShardOutsideItsCountIsAnError) {
  EXPECT_THROW(LoadRunner(1, {2, 2}), std::invalid_argument);
  EXPECT_THROW(LoadRunner(0), std::invalid_argument);
}

}  // namespace
}  // namespace ssebench::bench
