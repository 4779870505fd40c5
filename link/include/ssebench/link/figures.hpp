#pragma once
/**
 * The emulator's own figures over a window (from start-up or the last `reset`): counts per
 * direction, queueing delay and release lateness percentiles, CPU per packet, the behind flag.
 * One JSON line is what the control channel answers (link/README.md lists the fields).
 */
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ssebench/link/pipe.hpp"

namespace ssebench::link {

/**
 * Samples of a time, for exact percentiles: every sample up to `capacity`, then a uniform
 * reservoir of them (Vitter's algorithm R), so a long window costs bounded memory.
 */
class Samples {
 public:
  static constexpr std::size_t capacity = 1 << 20;  // 8 MiB per figure at most
  void add_ns(std::int64_t ns);
  std::uint64_t count() const { return count_; }
  std::int64_t max_ns() const { return max_ns_; }
  /** The q-quantile (0..1) in ns, nearest rank; 0 with no samples. */
  std::int64_t quantile_ns(double q) const;
  void clear();

 private:
  mutable std::vector<std::int64_t> v_;
  std::uint64_t count_ = 0;
  std::int64_t max_ns_ = 0;
  Rng rng_{0x5eed};
};

/** `s` as the inside of a JSON string (quotes and backslashes escaped, control bytes dropped). */
std::string json_escape(std::string_view s);

/** Figures of one window. */
struct Figures {
  std::string profile;
  double window_s = 0;
  PipeCounts down, up;
  Samples down_queue_delay, up_queue_delay;
  Samples lateness;            // actual write time − scheduled release
  double cpu_s = 0;            // the process's CPU time over the window
  std::int64_t behind_us = 0;  // lateness p99 above this flags the window as behind

  std::uint64_t packets() const { return down.packets + up.packets; }
  bool behind() const { return lateness.quantile_ns(0.99) > behind_us * 1000; }
  /** One JSON object on one line, fields with their units in their names. */
  std::string json() const;
};

}  // namespace ssebench::link
