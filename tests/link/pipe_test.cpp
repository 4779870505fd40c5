#include "ssebench/link/pipe.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ssebench::link {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr Nanos t0{1'000'000'000};  // an arbitrary start: nothing may assume 0

Nanos at_ms(double ms) {
  return t0 + Nanos(std::llround(ms * 1e6));
}

std::shared_ptr<const Trace> trace_of(std::vector<std::uint64_t> ms) {
  return std::make_shared<const Trace>(Trace{"synthetic", std::move(ms)});
}

// Offers packets of `sizes` at `when` and returns each one's release time (pops them all).
std::vector<Nanos> releases(Pipe& pipe, const std::vector<std::uint32_t>& sizes, Nanos when) {
  for (std::uint32_t i = 0; i < sizes.size(); ++i)
    EXPECT_EQ(pipe.offer(Packet{sizes[i], i}, when), Verdict::queued);
  std::vector<Nanos> out(sizes.size());
  while (const auto r = pipe.next_release()) {
    const auto due = pipe.pop(*r);
    out[due->packet.slot] = due->release_at;
  }
  return out;
}

TEST(Pipe, DelayOnlyReleasesAtArrivalPlusDelay) {
  Direction d;
  d.delay_us = 35'000;
  Pipe pipe(d, 1, t0);
  Nanos qd{-1};
  ASSERT_EQ(pipe.offer(Packet{100, 7}, at_ms(2), &qd), Verdict::queued);
  EXPECT_EQ(qd, Nanos{0});
  EXPECT_EQ(pipe.next_release(), at_ms(37));
  EXPECT_FALSE(pipe.pop(at_ms(36.999)));
  const auto due = pipe.pop(at_ms(40));
  ASSERT_TRUE(due);
  EXPECT_EQ(due->packet.slot, 7u);
  EXPECT_EQ(due->release_at, at_ms(37));
  EXPECT_EQ(due->arrived_at, at_ms(2));
  EXPECT_EQ(pipe.held(), 0u);
}

TEST(Pipe, RateSerializesBackToBackPackets) {
  Direction d;
  d.rate_bps = 12e6;  // 1,500 bytes per ms
  d.delay_us = 10'000;
  Pipe pipe(d, 1, t0);
  const auto r = releases(pipe, {1500, 1500, 750}, at_ms(0));
  EXPECT_EQ(r[0], at_ms(11));
  EXPECT_EQ(r[1], at_ms(12));
  EXPECT_EQ(r[2], at_ms(12.5));
}

TEST(Pipe, RateLinkIdleDoesNotBankCapacity) {
  Direction d;
  d.rate_bps = 12e6;
  Pipe pipe(d, 1, t0);
  releases(pipe, {1500}, at_ms(0));
  EXPECT_EQ(releases(pipe, {1500}, at_ms(10))[0], at_ms(11));
}

TEST(Pipe, QueueDelayIsWaitPlusSerialization) {
  Direction d;
  d.rate_bps = 12e6;
  d.delay_us = 20'000;
  Pipe pipe(d, 1, t0);
  Nanos qd{};
  pipe.offer(Packet{1500, 0}, at_ms(0), &qd);
  EXPECT_EQ(qd, milliseconds(1));
  pipe.offer(Packet{1500, 1}, at_ms(0), &qd);
  EXPECT_EQ(qd, milliseconds(2));
}

TEST(Pipe, DroptailInPackets) {
  Direction d;
  d.rate_bps = 12e6;
  d.queue_packets = 2;
  Pipe pipe(d, 1, t0);
  EXPECT_EQ(pipe.offer(Packet{1500, 0}, at_ms(0)), Verdict::queued);
  EXPECT_EQ(pipe.offer(Packet{1500, 1}, at_ms(0)), Verdict::queued);
  EXPECT_EQ(pipe.offer(Packet{1500, 2}, at_ms(0)), Verdict::queue_full);
  // At 1 ms the first has left the bottleneck (though it may still be in the delay stage).
  EXPECT_EQ(pipe.offer(Packet{1500, 3}, at_ms(1)), Verdict::queued);
  EXPECT_EQ(pipe.counts().drops_queue, 1u);
  EXPECT_EQ(pipe.counts().packets, 4u);
  EXPECT_EQ(pipe.counts().bytes, 6000u);
}

TEST(Pipe, DroptailInBytes) {
  Direction d;
  d.rate_bps = 12e6;
  d.queue_packets = 0;
  d.queue_bytes = 3000;
  Pipe pipe(d, 1, t0);
  EXPECT_EQ(pipe.offer(Packet{1500, 0}, at_ms(0)), Verdict::queued);
  EXPECT_EQ(pipe.offer(Packet{1000, 1}, at_ms(0)), Verdict::queued);
  EXPECT_EQ(pipe.offer(Packet{600, 2}, at_ms(0)), Verdict::queue_full);
  EXPECT_EQ(pipe.offer(Packet{500, 3}, at_ms(0)), Verdict::queued);
}

TEST(Pipe, NoBottleneckMeansNoQueueLimit) {
  Direction d;
  d.delay_us = 1000;
  d.queue_packets = 1;
  Pipe pipe(d, 1, t0);
  for (std::uint32_t i = 0; i < 10; ++i)
    EXPECT_EQ(pipe.offer(Packet{1500, i}, at_ms(0)), Verdict::queued);
}

TEST(Pipe, TraceSmallPacketsShareAnOpportunity) {
  Direction d;
  d.trace = trace_of({1});  // one opportunity per ms, at 1, 2, 3 ... ms
  Pipe pipe(d, 1, t0);
  const auto r = releases(pipe, {500, 500, 500, 500}, at_ms(0));
  EXPECT_EQ(r[0], at_ms(1));
  EXPECT_EQ(r[1], at_ms(1));
  EXPECT_EQ(r[2], at_ms(1));
  EXPECT_EQ(r[3], at_ms(2));
}

TEST(Pipe, TraceBigPacketSpansOpportunitiesAndLeavesTheRest) {
  Direction d;
  d.trace = trace_of({1});
  Pipe pipe(d, 1, t0);
  const auto r = releases(pipe, {2000, 1000, 1}, at_ms(0));
  EXPECT_EQ(r[0], at_ms(2));  // 1,500 at 1 ms, 500 at 2 ms
  EXPECT_EQ(r[1], at_ms(2));  // the 1,000 left at 2 ms
  EXPECT_EQ(r[2], at_ms(3));
}

TEST(Pipe, TraceUnusedOpportunitiesAreLost) {
  Direction d;
  d.trace = trace_of({1});
  Pipe pipe(d, 1, t0);
  EXPECT_EQ(releases(pipe, {500}, at_ms(0))[0], at_ms(1));
  // The 1,000 bytes left at 1 ms are gone once 1 ms has passed.
  EXPECT_EQ(releases(pipe, {500}, at_ms(1.5))[0], at_ms(2));
  EXPECT_EQ(releases(pipe, {1500}, at_ms(5.5))[0], at_ms(6));
  // An opportunity at exactly the arrival time is still usable.
  EXPECT_EQ(releases(pipe, {100}, at_ms(8))[0], at_ms(8));
}

TEST(Pipe, TraceWrapsAtItsLastTimestamp) {
  Direction d;
  d.trace = trace_of({2, 2, 5});  // opportunities at 2, 2, 5, then 7, 7, 10, 12, 12, 15 ...
  Pipe pipe(d, 1, t0);
  const auto r = releases(pipe, {1500, 1500, 1500, 1500, 1500, 1500}, at_ms(0));
  const std::vector<Nanos> want{at_ms(2), at_ms(2), at_ms(5), at_ms(7), at_ms(7), at_ms(10)};
  EXPECT_EQ(r, want);
  // Many periods later, the skip lands in the right cycle: 1,000,003 ms → next is 1,000,005.
  EXPECT_EQ(releases(pipe, {1500}, at_ms(1'000'003))[0], at_ms(1'000'005));
  EXPECT_EQ(releases(pipe, {1500}, at_ms(1'000'005.5))[0], at_ms(1'000'007));
}

TEST(Pipe, TraceDeliversItsOpportunitiesPerSecond) {
  // 3 opportunities at every 4th ms of a 100 ms trace: 75 per 100 ms = 750 per second.
  std::vector<std::uint64_t> ms;
  for (std::uint64_t t = 4; t <= 100; t += 4) ms.insert(ms.end(), {t, t, t});
  Direction d;
  d.trace = trace_of(ms);
  d.queue_packets = 0;
  Pipe pipe(d, 1, t0);
  // A saturating sender: 2 full packets every ms for 10 s.
  std::uint64_t delivered_in_window = 0;
  for (int t = 0; t < 10'000; ++t) {
    pipe.offer(Packet{1500, 0}, at_ms(t));
    pipe.offer(Packet{1500, 0}, at_ms(t));
    while (const auto due = pipe.pop(at_ms(t)))
      if (due->release_at > at_ms(1000) && due->release_at <= at_ms(9000)) ++delivered_in_window;
  }
  EXPECT_EQ(delivered_in_window, 750u * 8);
  EXPECT_DOUBLE_EQ(d.trace->opportunities_per_s(), 750);
  EXPECT_DOUBLE_EQ(d.trace->mbit_per_s(), 9);
}

// 99.9 % two-sided binomial bounds by the normal approximation (z = 3.29).
void expect_binomial(std::uint64_t hits, std::uint64_t n, double p) {
  const double mean = n * p, sd = std::sqrt(n * p * (1 - p));
  EXPECT_GE(static_cast<double>(hits), mean - 3.29 * sd) << hits << " of " << n;
  EXPECT_LE(static_cast<double>(hits), mean + 3.29 * sd) << hits << " of " << n;
}

std::vector<bool> losses(Direction d, std::uint64_t seed, int n) {
  Pipe pipe(std::move(d), seed, t0);
  std::vector<bool> lost;
  for (int i = 0; i < n; ++i) lost.push_back(pipe.offer(Packet{100, 0}, at_ms(i)) == Verdict::lost);
  return lost;
}

TEST(Pipe, BernoulliLossRateAndReproducibility) {
  Direction d;
  d.loss = 0.03;
  const auto a = losses(d, 42, 100'000);
  expect_binomial(std::count(a.begin(), a.end(), true), a.size(), 0.03);
  EXPECT_EQ(losses(d, 42, 100'000), a) << "the same seed must drop the same packets";
  EXPECT_NE(losses(d, 43, 100'000), a);
}

TEST(Pipe, LostPacketsAreCountedAndNotReleased) {
  Direction d;
  d.loss = 1;
  Pipe pipe(d, 1, t0);
  EXPECT_EQ(pipe.offer(Packet{100, 0}, at_ms(0)), Verdict::lost);
  EXPECT_EQ(pipe.counts().drops_loss, 1u);
  EXPECT_FALSE(pipe.next_release());
}

TEST(Pipe, LostPacketStillUsedTheBottleneck) {
  Direction d;
  d.rate_bps = 12e6;
  d.loss = 1;
  Pipe pipe(d, 1, t0);
  pipe.offer(Packet{1500, 0}, at_ms(0));
  d.loss = 0;
  EXPECT_EQ(pipe.depart(1500, at_ms(0)), at_ms(2));
}

TEST(Pipe, GilbertElliottMeanLossAndBursts) {
  Direction d;
  d.ge = GilbertElliott{0.01, 0.25, 0, 1};  // bursts of 4 packets on average, 3.85 % lost
  const int n = 400'000;
  const auto lost = losses(d, 7, n);
  const auto hits = static_cast<double>(std::count(lost.begin(), lost.end(), true));
  EXPECT_NEAR(hits / n, d.ge.mean_loss(), 0.005);
  // Mean burst length 1/r = 4 (a Bernoulli link of the same rate would give ~1.04).
  int bursts = 0;
  for (int i = 0; i < n; ++i) bursts += lost[i] && (i == 0 || !lost[i - 1]);
  EXPECT_NEAR(hits / bursts, 4.0, 0.3);
}

TEST(Pipe, JitterKeepsOrderUnlessReorder) {
  Direction d;
  d.delay_us = 10'000;
  d.jitter_us = 5'000;
  for (const bool reorder : {false, true}) {
    d.reorder = reorder;
    Pipe pipe(d, 3, t0);
    for (std::uint32_t i = 0; i < 1000; ++i) pipe.offer(Packet{100, i}, at_ms(i * 0.1));
    std::uint32_t last = 0, inversions = 0;
    Nanos min_delay = Nanos::max(), max_delay{};
    while (const auto r = pipe.next_release()) {
      const auto due = pipe.pop(*r);
      inversions += due->packet.slot < last;
      last = due->packet.slot;
      const Nanos delay = due->release_at - due->arrived_at;
      min_delay = std::min(min_delay, delay);
      max_delay = std::max(max_delay, delay);
    }
    if (reorder) {
      EXPECT_GT(inversions, 100u);
      EXPECT_GE(min_delay, milliseconds(5));
      EXPECT_LE(max_delay, milliseconds(15));
    } else {
      EXPECT_EQ(inversions, 0u);
      EXPECT_GE(min_delay, milliseconds(5));
    }
  }
}

TEST(Pipe, ResetCountsStartsAWindow) {
  Direction d;
  Pipe pipe(d, 1, t0);
  pipe.offer(Packet{100, 0}, at_ms(0));
  pipe.reset_counts();
  EXPECT_EQ(pipe.counts().packets, 0u);
  EXPECT_EQ(pipe.held(), 1u) << "held packets stay held across a reset";
}

TEST(Rng, SameSeedSameSequence) {
  Rng a(5), b(5), c(6);
  for (int i = 0; i < 10; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform();
    EXPECT_GE(u, 0);
    EXPECT_LT(u, 1);
  }
}

}  // namespace
}  // namespace ssebench::link
