#pragma once
/**
 * A mergeable latency histogram: log-linear buckets as in HdrHistogram, over nanoseconds, with
 * 256 sub-buckets per power of two (values below 256 ns exact, the others within 1/256 = 0.4 %
 * of the bucket's midpoint, which is what a percentile returns). Histograms of the same figure
 * from several threads, processes or hosts add bucket by bucket, so their merge gives the
 * percentiles of the whole (METRICS.md, "Histograms"). Negative values (a lag below zero is a
 * clock bug, but must not vanish) have buckets of their own. Count, sum, min and max are exact.
 */
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>

namespace ssebench::bench {

class Histogram {
 public:
  static constexpr int sub_bucket_bits = 8;
  static constexpr std::int64_t sub_buckets = std::int64_t{1} << sub_bucket_bits;

  /** Bucket index of a value in ns: b·(sub_buckets/2) + (v >> b), b the shift that brings v
   *  below sub_buckets (HdrHistogram's counts index); negative values mirror to -1 - index. */
  static std::int64_t index_of(std::int64_t ns) {
    if (ns < 0)
      return -1 - index_of(ns == std::numeric_limits<std::int64_t>::min() ? -(ns + 1) : -ns);
    const auto v = static_cast<std::uint64_t>(ns);
    const int shift = std::max(0, static_cast<int>(std::bit_width(v)) - sub_bucket_bits);
    return shift * (sub_buckets / 2) + static_cast<std::int64_t>(v >> shift);
  }
  /** The midpoint of a bucket, in ns (exact for the buckets of width 1). */
  static double value_of(std::int64_t index) {
    if (index < 0) return -value_of(-1 - index);
    const std::int64_t half = sub_buckets / 2;
    const std::int64_t shift = index < sub_buckets ? 0 : index / half - 1;
    const std::int64_t sub = index - shift * half;
    const double width = std::ldexp(1.0, static_cast<int>(shift));
    const double low = static_cast<double>(sub) * width;
    return shift == 0 ? low : low + (width - 1) / 2;
  }

  void add_ms(double ms) { add_ns(std::llround(ms * 1e6)); }
  void add_ns(std::int64_t ns) {
    ++counts_[index_of(ns)];
    ++count_;
    sum_ns_ += ns;
    min_ns_ = std::min(min_ns_, ns);
    max_ns_ = std::max(max_ns_, ns);
  }
  void merge(const Histogram& o) {
    for (const auto& [i, n] : o.counts_) counts_[i] += n;
    count_ += o.count_;
    sum_ns_ += o.sum_ns_;
    min_ns_ = std::min(min_ns_, o.min_ns_);
    max_ns_ = std::max(max_ns_, o.max_ns_);
  }

  std::uint64_t count() const { return count_; }
  double mean_ms() const {
    return count_ ? static_cast<double>(sum_ns_) / static_cast<double>(count_) / 1e6 : 0;
  }
  double min_ms() const { return count_ ? static_cast<double>(min_ns_) / 1e6 : 0; }
  double max_ms() const { return count_ ? static_cast<double>(max_ns_) / 1e6 : 0; }

  /** Percentile q in [0,1], linear between order statistics as summarize() (numpy's default),
   *  each order statistic its bucket's midpoint, clamped to the exact min and max. */
  double percentile_ms(double q) const {
    if (count_ == 0) return 0;
    const double rank = q * static_cast<double>(count_ - 1);
    const auto lo = static_cast<std::uint64_t>(std::floor(rank));
    const double a = nth_ns(lo), b = nth_ns(std::min(lo + 1, count_ - 1));
    return (a + (b - a) * (rank - static_cast<double>(lo))) / 1e6;
  }

  /** {"count":N,"sum_ns":S,"min_ns":A,"max_ns":B,"buckets":[[index,count],...]}: the indexes
   *  are index_of()'s, scripts/merge_shards adds them. */
  std::string to_json() const {
    using std::to_string;
    std::string s = "{\"count\":" + to_string(count_) + ",\"sum_ns\":" + to_string(sum_ns_) +
                    ",\"min_ns\":" + to_string(count_ ? min_ns_ : 0) +
                    ",\"max_ns\":" + to_string(count_ ? max_ns_ : 0) + ",\"buckets\":[";
    for (const auto& [i, n] : counts_)
      s += (s.back() == '[' ? "[" : ",[") + to_string(i) + "," + to_string(n) + "]";
    return s + "]}";
  }

 private:
  /** The k-th smallest value (0-based), in ns. */
  double nth_ns(std::uint64_t k) const {
    std::uint64_t seen = 0;
    for (const auto& [i, n] : counts_) {
      seen += n;
      if (k < seen)
        return std::clamp(value_of(i), static_cast<double>(min_ns_), static_cast<double>(max_ns_));
    }
    return static_cast<double>(max_ns_);
  }

  std::map<std::int64_t, std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::int64_t sum_ns_ = 0;  // exact; 292 years of summed latency before it overflows
  std::int64_t min_ns_ = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_ns_ = std::numeric_limits<std::int64_t>::min();
};

}  // namespace ssebench::bench
