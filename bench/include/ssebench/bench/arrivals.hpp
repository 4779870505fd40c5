#pragma once
/**
 * Open-loop arrival schedules: when each stream of a case is due, as a pure function of
 * (seed, rate, kind, burstiness), so that a run, its repetitions and its shards agree on every
 * stream's scheduled start (METRICS.md, "Load models").
 */
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ssebench::bench {

/**
 * constant — every 1/rate exactly;
 * poisson  — exponential gaps of mean 1/rate (independent users: the default);
 * gamma    — gamma gaps of mean 1/rate and shape `burstiness` (CV = 1/sqrt(shape)): below 1
 *            burstier than Poisson, above 1 smoother, 1 is Poisson (vLLM's --burstiness).
 */
enum class ArrivalKind { constant, poisson, gamma };

std::string_view to_string(ArrivalKind k);
std::optional<ArrivalKind> parse_arrival_kind(std::string_view name);

struct ArrivalSpec {
  double rate_per_s = 1;  // mean arrivals per second, > 0
  ArrivalKind kind = ArrivalKind::poisson;
  double burstiness = 1;  // gamma's shape, > 0
  std::uint64_t seed = 1;
};

/** The first `count` gaps between arrivals (the first one is from the case's start to the first
 *  arrival), in seconds. Throws std::invalid_argument for a rate or burstiness that is not > 0. */
std::vector<double> inter_arrivals_s(const ArrivalSpec& spec, std::size_t count);

/** Every arrival's offset from the case's start, for the arrivals due before `window`. */
std::vector<std::chrono::microseconds> arrival_offsets(const ArrivalSpec& spec,
                                                       std::chrono::microseconds window);

}  // namespace ssebench::bench
