#include "ssebench/bench/arrivals.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace ssebench::bench {
namespace {

struct Moments {
  double mean = 0, cv = 0;
};
Moments moments(const std::vector<double>& v) {
  const double n = static_cast<double>(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return {mean, std::sqrt(ss / (n - 1)) / mean};
}

constexpr std::size_t arrivals = 5000;

TEST(Arrivals, PoissonMeanIsOneOverTheRateAndItsCvOne) {
  for (std::uint64_t seed : {1u, 2u, 42u}) {
    const auto gaps = inter_arrivals_s({.rate_per_s = 10, .seed = seed}, arrivals);
    const Moments m = moments(gaps);
    EXPECT_NEAR(m.mean, 0.1, 0.1 * 0.05) << "seed " << seed;
    EXPECT_NEAR(m.cv, 1.0, 0.05) << "seed " << seed;
  }
}

TEST(Arrivals, ConstantIsExact) {
  for (double gap : inter_arrivals_s({.rate_per_s = 4, .kind = ArrivalKind::constant}, 100))
    EXPECT_EQ(gap, 0.25);
}

TEST(Arrivals, GammaMeanIsOneOverTheRateAndItsCvOneOverSqrtShape) {
  for (double shape : {0.25, 1.0, 4.0}) {
    const auto gaps = inter_arrivals_s(
        {.rate_per_s = 20, .kind = ArrivalKind::gamma, .burstiness = shape, .seed = 7}, arrivals);
    const Moments m = moments(gaps);
    EXPECT_NEAR(m.mean, 0.05, 0.05 * 0.05) << "shape " << shape;
    EXPECT_NEAR(m.cv, 1 / std::sqrt(shape), 0.1 / std::sqrt(shape)) << "shape " << shape;
  }
}

TEST(Arrivals, TheSameSeedGivesTheSameScheduleAndAnotherSeedAnother) {
  const ArrivalSpec a{.rate_per_s = 5, .seed = 3};
  EXPECT_EQ(inter_arrivals_s(a, 100), inter_arrivals_s(a, 100));
  ArrivalSpec b = a;
  b.seed = 4;
  EXPECT_NE(inter_arrivals_s(a, 100), inter_arrivals_s(b, 100));
}

TEST(Arrivals, OffsetsAreTheRunningSumOfTheGapsWithinTheWindow) {
  const ArrivalSpec spec{.rate_per_s = 50, .seed = 9};
  const auto offsets = arrival_offsets(spec, std::chrono::seconds(10));
  ASSERT_GT(offsets.size(), 400u);
  EXPECT_LT(offsets.size(), 600u);
  const auto gaps = inter_arrivals_s(spec, offsets.size());
  double at = 0;
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    at += gaps[i];
    EXPECT_EQ(offsets[i].count(), static_cast<long long>(at * 1e6));
  }
  EXPECT_LT(offsets.back(), std::chrono::seconds(10));
}

TEST(Arrivals, ARateOrBurstinessNotAboveZeroIsAnError) {
  EXPECT_THROW(inter_arrivals_s({.rate_per_s = 0}, 1), std::invalid_argument);
  EXPECT_THROW(inter_arrivals_s({.kind = ArrivalKind::gamma, .burstiness = 0}, 1),
               std::invalid_argument);
}

TEST(Arrivals, KindsReadTheirNames) {
  for (ArrivalKind k : {ArrivalKind::constant, ArrivalKind::poisson, ArrivalKind::gamma})
    EXPECT_EQ(parse_arrival_kind(to_string(k)), k);
  EXPECT_FALSE(parse_arrival_kind("uniform"));
}

}  // namespace
}  // namespace ssebench::bench
