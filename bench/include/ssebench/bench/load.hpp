#pragma once
/**
 * A case's streams run by one harness process: closed rounds or open-loop arrivals, split over
 * shards (processes, hosts: stream k belongs to shard k mod N) and over client threads (each
 * with its own Engine, so its own libcurl multi handle), the threads' results merged exactly
 * (METRICS.md, "Load models").
 */
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "ssebench/bench/arrivals.hpp"
#include "ssebench/bench/engine.hpp"

namespace ssebench::bench {

/** An open-loop case: arrivals over `duration`; those due in the first `warmup` or the last
 *  `cooldown` of it run but are not counted. */
struct OpenLoop {
  ArrivalSpec arrivals;
  std::chrono::microseconds duration{std::chrono::seconds(10)};
  std::chrono::microseconds warmup{0};
  std::chrono::microseconds cooldown{0};
  std::size_t max_concurrency = 0;  // streams at once over all shards and threads; 0 = no cap
};

/** Closed-loop chat sessions: `users` over all shards and threads, `think` between a user's
 *  turns, over `duration`; turns due in the first `warmup` or the last `cooldown` not counted. */
struct UserLoad {
  std::size_t users = 1;
  std::chrono::microseconds think{std::chrono::seconds(1)};
  std::chrono::microseconds duration{std::chrono::seconds(10)};
  std::chrono::microseconds warmup{0};
  std::chrono::microseconds cooldown{0};
};

/** Which streams this process runs: stream k when k mod `count` = `index`. */
struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
};

/** The share of `total` (a concurrency, a cap) that part `i` of `n` takes: split as k mod n. */
std::size_t share_of(std::size_t total, std::size_t i, std::size_t n);

/** Rounds of parts run apart (threads) as one: streams concatenated, CPU and TCP counters
 *  summed, wall time from the first t0 to the last end. */
RoundResult merge_rounds(std::vector<RoundResult> parts);

class LoadRunner {
 public:
  /** `threads` engines, each driven by a thread of its own during a round (1: the caller's). */
  explicit LoadRunner(std::size_t threads, Shard shard = {});

  /** A closed round: this shard's share of `concurrency` streams at once, split over threads. */
  RoundResult run_round(const Expectation& expect, Transport transport, const ClientConfig& config,
                        std::size_t concurrency);
  /** The open-loop case: this shard's arrivals, each record carrying its scheduled start and
   *  whether it is counted; the cap split over shards and threads as the arrivals are. */
  RoundResult run_open(const Expectation& expect, Transport transport, const ClientConfig& config,
                       const OpenLoop& load);

  /** The sessions: this shard's share of the users, split over threads; each record carries its
   *  scheduled start and whether it is counted. */
  RoundResult run_users(const Expectation& expect, Transport transport, const ClientConfig& config,
                        const UserLoad& load);

  std::size_t threads() const { return engines_.size(); }

 private:
  std::vector<std::unique_ptr<Engine>> engines_;
  Shard shard_;
};

}  // namespace ssebench::bench
