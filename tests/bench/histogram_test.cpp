#include "ssebench/bench/histogram.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ssebench/bench/metrics.hpp"

namespace ssebench::bench {
namespace {

/** Latency-like samples: lognormal around 2 ms, a tail to seconds, a few negative. */
std::vector<double> samples_ms(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(2.0), 1.5);
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(i % 500 == 0 ? -0.01 * d(rng) : d(rng));
  return v;
}

constexpr double precision = 1.0 / 256;  // half a bucket's width, relative
constexpr double quantiles[] = {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0};

TEST(Histogram, PercentilesAreWithinItsPrecisionOfTheExactOnes) {
  const std::vector<double> v = samples_ms(20'000, 1);
  Histogram h;
  for (double x : v) h.add_ms(x);
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (double q : quantiles) {
    const double exact = percentile(sorted, q);
    EXPECT_NEAR(h.percentile_ms(q), exact, std::abs(exact) * precision + 1e-6) << "q " << q;
  }
  EXPECT_EQ(h.count(), v.size());
  EXPECT_NEAR(h.min_ms(), sorted.front(), 1e-6);  // to the ns
  EXPECT_NEAR(h.max_ms(), sorted.back(), 1e-6);
  EXPECT_NEAR(h.mean_ms(), summarize(v).mean, 1e-6);
}

TEST(Histogram, TheMergeOfTwoHalvesIsTheWhole) {
  const std::vector<double> v = samples_ms(10'001, 2);
  Histogram whole, a, b;
  for (std::size_t i = 0; i < v.size(); ++i) {
    whole.add_ms(v[i]);
    (i % 2 ? a : b).add_ms(v[i]);
  }
  a.merge(b);
  EXPECT_EQ(a.to_json(), whole.to_json());
  for (double q : quantiles) EXPECT_EQ(a.percentile_ms(q), whole.percentile_ms(q));
}

TEST(Histogram, SmallValuesAreExactAndEveryValueFallsInItsOwnBucket) {
  for (std::int64_t ns : {0, 1, 255, 256, 257, 1000, 123'456'789, -3, -1'000'000}) {
    const double mid = Histogram::value_of(Histogram::index_of(ns));
    if (std::abs(ns) < Histogram::sub_buckets) {
      EXPECT_EQ(mid, static_cast<double>(ns));
    }
    EXPECT_NEAR(mid, static_cast<double>(ns), std::abs(static_cast<double>(ns)) * precision) << ns;
  }
}

TEST(Histogram, AnEmptyOneHasNoSamplesAndWritesNoBucket) {
  const Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile_ms(0.5), 0);
  EXPECT_EQ(h.to_json(), R"({"count":0,"sum_ns":0,"min_ns":0,"max_ns":0,"buckets":[]})");
}

}  // namespace
}  // namespace ssebench::bench
